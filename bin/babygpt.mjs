#!/usr/bin/env node
// The `babygpt` command. The project is TypeScript run through tsx's loader, so there is no build step:
// after `npm ci` this works as it is, and so does importing a model file that `train` has just generated.
import { register } from "tsx/esm/api";

register();
await import("../runtime/cli/main.ts");
