// The names a file uses without declaring them, read from its syntax tree: what it must import. Comments
// are not in the tree, and neither are the names of members (`this.dropout`, `{ dropout: number }`), so
// neither can pull in an import.
import { Node, SyntaxKind, type Identifier, type SourceFile } from "ts-morph";

/** Identifiers the file refers to as values or types and declares nowhere itself, sorted. */
export function freeNames(file: SourceFile): string[] {
  const used = new Set<string>();
  const declared = new Set<string>();
  for (const id of file.getDescendantsOfKind(SyntaxKind.Identifier)) {
    const role = roleOf(id);
    if (role === "declares") declared.add(id.getText());
    else if (role === "uses") used.add(id.getText());
  }
  return [...used].filter((n) => !declared.has(n)).sort();
}

/** Whether an identifier declares a name, uses one, or only names a member or property. */
function roleOf(id: Identifier): "declares" | "uses" | "member" {
  const parent = id.getParent();
  // `{ dropout }` both names a property and uses the variable.
  if (Node.isShorthandPropertyAssignment(parent)) return "uses";
  if (Node.isPropertyAccessExpression(parent)) return parent.getNameNode() === id ? "member" : "uses";
  if (Node.isQualifiedName(parent)) return parent.getRight() === id ? "member" : "uses";
  if (
    Node.isVariableDeclaration(parent) ||
    Node.isParameterDeclaration(parent) ||
    Node.isFunctionDeclaration(parent) ||
    Node.isClassDeclaration(parent) ||
    Node.isInterfaceDeclaration(parent) ||
    Node.isTypeAliasDeclaration(parent) ||
    Node.isTypeParameterDeclaration(parent) ||
    Node.isImportSpecifier(parent)
  ) {
    return "declares";
  }
  // `const { key: name } = …` declares name; key names a property.
  if (Node.isBindingElement(parent)) return parent.getNameNode() === id ? "declares" : "member";
  if (
    Node.isPropertyAssignment(parent) ||
    Node.isPropertyDeclaration(parent) ||
    Node.isPropertySignature(parent) ||
    Node.isMethodDeclaration(parent) ||
    Node.isMethodSignature(parent) ||
    Node.isGetAccessorDeclaration(parent) ||
    Node.isSetAccessorDeclaration(parent)
  ) {
    return parent.getNameNode() === id ? "member" : "uses";
  }
  return "uses";
}
