// Errors caused by the user's input (a missing file, a bad flag, a foreign checkpoint): the CLI prints
// the message alone and exits 2. Anything else is a bug and gets a stack trace under --debug.

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
