// Where a project's specs and generated files are: path arithmetic alone, so that what needs only the
// paths (the torch engine finding generated/torch/<spec>.py) does not load the emitter (ts-morph and the
// TypeScript compiler under it) with compile.ts.
import { basename, join } from "node:path";

export interface Project {
  readonly root: string;
  readonly specsDir: string;
  readonly generatedDir: string;
}

export function projectAt(root: string): Project {
  return { root, specsDir: join(root, "specs"), generatedDir: join(root, "generated") };
}

/** The PyTorch module's name for a spec: generated/torch/<spec file name>.py */
export function torchPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, "torch", `${basename(specPath).replace(/\.ya?ml$/, "")}.py`);
}

/** The generated file's name for a spec: generated/<spec file name>.ts */
export function generatedPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, `${basename(specPath).replace(/\.ya?ml$/, "")}.ts`);
}
