// A ts-morph class structure from the few parts a generated layer class has: fields, a constructor that
// builds them, and forward.
import { StructureKind, type ClassDeclarationStructure, type OptionalKind, type PropertyDeclarationStructure } from "ts-morph";
import { wrap } from "./format.js";

export interface ClassParts {
  readonly name: string;
  readonly doc: string;
  readonly isExported?: boolean;
  readonly extendsClass?: string;
  readonly fields: readonly { readonly name: string; readonly type: string; readonly doc?: string }[];
  /** Constructor parameter list, e.g. `o: { nIn: number }`; empty for none. */
  readonly ctorParams: readonly { readonly name: string; readonly type: string }[];
  readonly ctorBody: readonly string[];
  readonly methods: readonly {
    readonly name: string;
    readonly doc?: string;
    readonly params: readonly { readonly name: string; readonly type: string; readonly optional?: boolean }[];
    readonly returns: string;
    readonly body: readonly string[];
  }[];
}

export function buildClass(parts: ClassParts): ClassDeclarationStructure {
  const properties: OptionalKind<PropertyDeclarationStructure>[] = parts.fields.map((f) => ({
    name: f.name,
    type: f.type,
    isReadonly: true,
    ...(f.doc ? { docs: [f.doc] } : {}),
  }));
  return {
    kind: StructureKind.Class,
    name: parts.name,
    isExported: parts.isExported ?? false,
    extends: parts.extendsClass ?? "Module",
    docs: [wrap(parts.doc, 100).join("\n")],
    properties,
    ctors: [
      {
        parameters: parts.ctorParams.map((p) => ({ name: p.name, type: p.type })),
        statements: ["super();", ...parts.ctorBody],
      },
    ],
    methods: parts.methods.map((m) => ({
      name: m.name,
      ...(m.doc ? { docs: [wrap(m.doc, 100).join("\n")] } : {}),
      parameters: m.params.map((p) => ({ name: p.name, type: p.type, hasQuestionToken: p.optional ?? false })),
      returnType: m.returns,
      statements: [...m.body],
    })),
  };
}
