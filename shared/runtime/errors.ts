// Errors of model-package loading and of caption requests, typed so that the edge and the CLI can
// map them to a 4xx/5xx or an exit code without matching on message text.

/** A model package is missing a file, or a file or field is invalid. */
export class ModelPackageError extends Error {
  readonly file: string;
  readonly field: string | null;

  constructor(file: string, field: string | null, message: string) {
    super(`${file}${field === null ? "" : ` (${field})`}: ${message}`);
    this.name = "ModelPackageError";
    this.file = file;
    this.field = field;
  }
}
