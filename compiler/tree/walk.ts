// Visiting every expression of a class or a whole file: what the serializers ask of the tree as a whole
// (which ops and library classes a file uses, whether a class reads the config or the vocabulary).
import type { ClassDecl, Expr, Init, Make, ModelDecl, ModuleFile, OpArg, Stmt } from "./nodes.js";

/** Calls fn on e and every expression inside it. */
export function visitExpr(e: Expr, fn: (e: Expr) => void): void {
  fn(e);
  switch (e.kind) {
    case "arith":
      visitExpr(e.left, fn);
      visitExpr(e.right, fn);
      break;
    case "dim":
      visitExpr(e.of, fn);
      break;
    case "call":
      visitExpr(e.module, fn);
      e.args.forEach((a) => visitExpr(a, fn));
      if (typeof e.cache === "object") visitExpr(e.cache, fn);
      break;
    case "item":
      visitExpr(e.of, fn);
      break;
    case "op":
      Object.values(e.args).forEach((a) => visitArg(a, fn));
      break;
    default:
      break;
  }
}

function visitArg(a: OpArg, fn: (e: Expr) => void): void {
  if (Array.isArray(a)) (a as readonly unknown[]).forEach((x) => typeof x === "object" && x !== null && visitExpr(x as Expr, fn));
  else if (typeof a === "object" && a !== null) visitExpr(a as Expr, fn);
}

function visitMake(m: Make, fn: (e: Expr) => void): void {
  if (m.kind === "class") m.args.forEach((a) => visitExpr(a, fn));
  else Object.values(m.args).forEach((a) => typeof a === "object" && visitExpr(a, fn));
}

export function visitInit(init: readonly Init[], fn: (e: Expr) => void): void {
  for (const f of init) {
    switch (f.kind) {
      case "module":
        visitMake(f.make, fn);
        break;
      case "modules":
        visitExpr(f.count, fn);
        visitMake(f.make, fn);
        break;
      case "parameter":
        f.shape.forEach((s) => visitExpr(s, fn));
        break;
      case "buffer":
      case "value":
      case "unpack":
        visitExpr(f.value, fn);
        break;
      case "note":
        break;
    }
  }
}

export function visitStmts(body: readonly Stmt[], fn: (e: Expr) => void): void {
  for (const s of body) {
    switch (s.kind) {
      case "let":
      case "set":
      case "return":
      case "unpack":
      case "aux_loss":
        visitExpr(s.value, fn);
        break;
      case "shape":
        visitExpr(s.of, fn);
        break;
      case "for":
        visitExpr(s.over, fn);
        visitStmts(s.body, fn);
        break;
      case "times":
        visitExpr(s.count, fn);
        visitStmts(s.body, fn);
        break;
      case "scope":
        visitStmts(s.body, fn);
        break;
      case "note":
      case "cache":
        break;
    }
  }
}

/** Every expression of a class (its constructor and forward). */
export function visitClass(decl: ClassDecl | ModelDecl, fn: (e: Expr) => void): void {
  visitInit(decl.init, fn);
  if (decl.forward) visitStmts(decl.forward.body, fn);
}

export function visitFile(file: ModuleFile, fn: (e: Expr) => void): void {
  file.classes.forEach((c) => visitClass(c, fn));
  visitClass(file.model, fn);
}

/** Whether statements record an auxiliary loss (aux_loss), directly or in a nested body. */
export function recordsAuxLoss(body: readonly Stmt[]): boolean {
  return body.some((s) => s.kind === "aux_loss" || ((s.kind === "for" || s.kind === "scope") && recordsAuxLoss(s.body)));
}

/** Whether any class of the file records an auxiliary loss: its model then sums them for the trainer. */
export function fileRecordsAuxLoss(file: ModuleFile): boolean {
  return file.classes.some((c) => c.forward !== undefined && recordsAuxLoss(c.forward.body)) || recordsAuxLoss(file.model.forward.body);
}

/** The makes of a class's fields: which classes and library classes it builds. */
export function makesOf(init: readonly Init[]): Make[] {
  return init.flatMap((f) => (f.kind === "module" || f.kind === "modules" ? [f.make] : []));
}

/** Whether any expression of the init satisfies pred. */
export function initHas(init: readonly Init[], pred: (e: Expr) => boolean): boolean {
  let found = false;
  visitInit(init, (e) => {
    if (pred(e)) found = true;
  });
  return found;
}
