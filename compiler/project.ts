// Where a project's specs and generated files are: path arithmetic alone, so that what needs only the
// paths (the torch engine finding generated/torch/<spec>.py) does not load the emitter (ts-morph and the
// TypeScript compiler under it) with compile.ts.
//
// Two folders of specs have committed code: specs/ (the ladder) → generated/<spec>.ts and
// generated/torch/<spec>.py, and specs/zoo/ (published architectures at a tiny size) →
// generated/zoo/<spec>.ts and generated/torch/zoo/<spec>.py. Any other spec compiles beside itself.
import { basename, dirname, join, relative, resolve, sep } from "node:path";

export interface Project {
  readonly root: string;
  readonly specsDir: string;
  /** specs/zoo: the zoo's specs, whose code is generated/zoo/ and generated/torch/zoo/. */
  readonly zooDir: string;
  readonly generatedDir: string;
}

export function projectAt(root: string): Project {
  return { root, specsDir: join(root, "specs"), zooDir: join(root, "specs", "zoo"), generatedDir: join(root, "generated") };
}

/** The folders of generated/ (and of generated/torch/) that hold committed code: "" and "zoo". */
export const GENERATED_FOLDERS = ["", "zoo"] as const;

/**
 * The folder under generated/ whose code a spec's is ("" for specs/, "zoo" for specs/zoo/), or undefined
 * for a spec anywhere else (which has no committed code). `specPath` absolute or relative to the root.
 */
export function generatedFolderOf(project: Project, specPath: string): (typeof GENERATED_FOLDERS)[number] | undefined {
  const dir = dirname(resolve(project.root, specPath));
  if (dir === project.specsDir) return "";
  if (dir === project.zooDir) return "zoo";
  return undefined;
}

/** True for a spec of specs/ or specs/zoo/: one whose code is committed under generated/. */
export function hasCommittedCode(project: Project, specPath: string): boolean {
  return generatedFolderOf(project, specPath) !== undefined;
}

const stem = (specPath: string): string => basename(specPath).replace(/\.ya?ml$/, "");

/** The PyTorch module's name for a spec: generated/torch/<spec file name>.py (generated/torch/zoo/… for the zoo) */
export function torchPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, "torch", generatedFolderOf(project, specPath) ?? "", `${stem(specPath)}.py`);
}

/** The generated file's name for a spec: generated/<spec file name>.ts (generated/zoo/… for the zoo) */
export function generatedPathFor(project: Project, specPath: string): string {
  return join(project.generatedDir, generatedFolderOf(project, specPath) ?? "", `${stem(specPath)}.ts`);
}

/** The import of runtime/nn that a model file at `file` needs (generated/ files use the default, ../runtime/nn/index.js). */
export function runtimeImportFrom(project: Project, file: string): string {
  const rel = relative(dirname(file), join(project.root, "runtime", "nn", "index.js")).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}
