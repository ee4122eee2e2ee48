// What a generated file imports comes from its syntax tree: names it uses as values or types and does
// not declare. A table of small sources, each with the names it must import.
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { freeNames } from "../../compiler/serialize/typescript/free-names.js";

const cases: Record<string, { readonly source: string; readonly free: readonly string[] }> = {
  "a call and a type": { source: "function f(x: Tensor): Tensor { return dropout(x); }", free: ["Tensor", "dropout"] },
  "a name in a comment only": { source: "// dropout(x) would go here\n/** gelu, too */\nconst y = 1;", free: [] },
  "members and property names": {
    source: "class A { dropout = 1; gelu(): void {} }\nconst o = { layerNorm: 2 };\nfunction g(p: { causalMask: number }): number { return p.causalMask + o.layerNorm + new A().dropout; }",
    free: [],
  },
  "shorthand properties use the variable": { source: "const f = () => ({ dropout });", free: ["dropout"] },
  "qualified names and property access": { source: "function f(x: tf.Tensor3D): tf.Tensor3D { return tf.add(x, x); }", free: ["tf"] },
  "destructured names are declared; their keys are not uses": {
    source: "const { mean, variance: v } = tf.moments(x);\nconst y = mean + v;",
    free: ["tf", "x"],
  },
  "a base class and a generic argument": { source: "class M extends Module { h: Head[] = []; }\nclass Head {}", free: ["Module"] },
};

describe("free names", () => {
  it.each(Object.entries(cases))("%s", (_name, c) => {
    const file = new Project({ useInMemoryFileSystem: true }).createSourceFile("x.ts", c.source);
    expect(freeNames(file)).toEqual([...c.free].sort());
  });
});
