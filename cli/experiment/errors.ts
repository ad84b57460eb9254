// Errors of the experiment runner that come from its inputs or output folder, not from a bug: the
// CLI prints their message and exits with status 1 instead of printing a stack trace.

export class ExperimentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExperimentError";
  }
}
