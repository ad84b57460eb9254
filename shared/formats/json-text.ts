// JSON text helpers for validation messages. They find where the first syntax error is (line and
// column, the same in every JavaScript engine, unlike JSON.parse messages). They also find which
// keys of the top-level object, or of an object inside it, repeat, because JSON.parse silently
// keeps the last one.

import type { ValidationProblem } from "./validation-error.ts";

export interface JsonSyntaxError {
  /** UTF-16 offset of the offending character. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units. */
  column: number;
  message: string;
}

/**
 * Parses JSON text, removing a leading byte order mark. Returns the value, or a problem at
 * `documentName` that names the first syntax error and its line and column.
 */
export function parseJsonText(
  text: string,
  documentName: string,
): { ok: true; value: unknown } | { ok: false; problem: ValidationProblem } {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const located = findJsonSyntaxError(source);
    const message =
      located === undefined
        ? `invalid JSON: ${error.message}`
        : `invalid JSON at line ${located.line}, column ${located.column}: ${located.message}`;
    return { ok: false, problem: { path: documentName, message } };
  }
}

/** Finds the first JSON syntax error of `text`, or returns undefined when the text is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new JsonScanner(text);
  const message = scanner.scan();
  if (message === undefined) return undefined;
  return { offset: scanner.position, ...lineAndColumn(text, scanner.position), message };
}

/**
 * Lists the keys that occur more than once in the top-level object of valid JSON `text`, each
 * once, in order of their second occurrence. Returns [] when the top level is not an object.
 */
export function findDuplicateTopLevelKeys(text: string): string[] {
  return findDuplicateKeys(text, []);
}

interface ContainerFrame {
  isObject: boolean;
  /** True where the next string is a member key. */
  expectKey: boolean;
  /** The key of the member whose value is being read. */
  key: string | undefined;
  /** True when the keys of `path` lead from the top level to this container. */
  onPath: boolean;
}

/**
 * Lists the keys that occur more than once in the object that the member keys `path` lead to from
 * the top-level object of valid JSON `text` (["predictions"] for `{"predictions": {...}}`), each
 * once, in order of their second occurrence. Returns [] when no object sits at `path`. When a key
 * on the path itself repeats, the last occurrence counts, as in JSON.parse.
 */
export function findDuplicateKeys(text: string, path: readonly string[]): string[] {
  const stack: ContainerFrame[] = [];
  let seen = new Set<string>();
  let duplicates = new Set<string>();
  let i = 0;

  while (i < text.length) {
    const code = text.charCodeAt(i);
    const top = stack.at(-1);
    if (code === 0x22) {
      const end = endOfString(text, i);
      if (top?.isObject === true && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        top.key = key;
        top.expectKey = false;
        if (top.onPath && stack.length - 1 === path.length) {
          if (seen.has(key)) duplicates.add(key);
          seen.add(key);
        }
      }
      i = end;
      continue;
    }

    if (code === 0x7b || code === 0x5b) {
      const depth = stack.length;
      const onPath =
        top === undefined ||
        (top.onPath && top.isObject && depth - 1 < path.length && top.key === path[depth - 1]);
      const isObject = code === 0x7b;
      stack.push({ isObject, expectKey: isObject, key: undefined, onPath });
      if (onPath && isObject && depth === path.length) {
        seen = new Set();
        duplicates = new Set();
      }
    } else if (code === 0x7d || code === 0x5d) {
      stack.pop();
    } else if (code === 0x2c && top?.isObject === true) {
      top.expectKey = true;
    }
    i++;
  }
  return [...duplicates];
}

/** Returns the offset just after the string literal that starts at `start` (a quote). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x5c) i += 2;
    else if (code === 0x22) return i + 1;
    else i++;
  }
  return i;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

type Container = "object" | "array";

/** A JSON (RFC 8259) syntax checker with an explicit stack, so deep nesting cannot overflow. */
class JsonScanner {
  position = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** Returns undefined for valid JSON, or the message of the first error at `position`. */
  scan(): string | undefined {
    const stack: Container[] = [];
    this.skipWhitespace();

    for (;;) {
      // A value is expected here.
      if (this.position >= this.text.length) return "unexpected end of input";
      const code = this.text.charCodeAt(this.position);
      if (code === 0x7b || code === 0x5b) {
        this.position++;
        this.skipWhitespace();
        const isObject = code === 0x7b;
        if (this.text.charCodeAt(this.position) !== (isObject ? 0x7d : 0x5d)) {
          stack.push(isObject ? "object" : "array");
          if (isObject) {
            const error = this.member();
            if (error !== undefined) return error;
          }
          continue;
        }
        this.position++;
      } else {
        const error = this.scalar();
        if (error !== undefined) return error;
      }

      // After a complete value, close containers until a comma requests the next value.
      const error = this.afterValue(stack);
      if (error !== undefined) return error === "" ? undefined : error;
    }
  }

  /**
   * Consumes closing brackets and one comma (with the next member's key). Returns undefined when a
   * value is expected next, "" at the valid end of the text, or an error message.
   */
  private afterValue(stack: Container[]): string | undefined {
    for (;;) {
      this.skipWhitespace();
      const top = stack.at(-1);
      if (top === undefined) {
        return this.position < this.text.length ? "unexpected text after the JSON value" : "";
      }

      const code = this.text.charCodeAt(this.position);
      if (code === (top === "object" ? 0x7d : 0x5d)) {
        this.position++;
        stack.pop();
        continue;
      }
      if (code !== 0x2c) {
        if (this.position >= this.text.length) return "unexpected end of input";
        return top === "object"
          ? `expected ',' or '}' after an object member, found ${this.describeHere()}`
          : `expected ',' or ']' after an array element, found ${this.describeHere()}`;
      }

      const comma = this.position;
      this.position++;
      this.skipWhitespace();
      const next = this.text.charCodeAt(this.position);
      if (next === 0x7d || next === 0x5d) {
        this.position = comma;
        return "trailing comma before the closing bracket";
      }
      return top === "object" ? this.member() : undefined;
    }
  }

  private scalar(): string | undefined {
    const code = this.text.charCodeAt(this.position);
    if (code === 0x22) return this.string();
    if (code === 0x2d || (code >= 0x30 && code <= 0x39)) return this.number();
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return undefined;
      }
    }
    return `unexpected ${this.describeHere()}; expected a JSON value`;
  }

  /** Scans `"key" :` of an object member. */
  private member(): string | undefined {
    if (this.text.charCodeAt(this.position) !== 0x22) {
      if (this.position >= this.text.length) return "unexpected end of input";
      return `expected a double-quoted object key, found ${this.describeHere()}`;
    }
    const error = this.string();
    if (error !== undefined) return error;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) !== 0x3a) {
      if (this.position >= this.text.length) return "unexpected end of input";
      return `expected ':' after an object key, found ${this.describeHere()}`;
    }
    this.position++;
    this.skipWhitespace();
    return undefined;
  }

  private string(): string | undefined {
    const start = this.position;
    this.position++;
    while (this.position < this.text.length) {
      const code = this.text.charCodeAt(this.position);
      if (code === 0x22) {
        this.position++;
        return undefined;
      }
      if (code < 0x20) return "control character inside a string; escape it, for example as \\n";
      if (code === 0x5c) {
        const escapeCharacter = this.text.charAt(this.position + 1);
        if (escapeCharacter === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.position + 2, this.position + 6))) {
            return "invalid \\u escape; expected 4 hex digits";
          }
          this.position += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escapeCharacter) || escapeCharacter === "") {
          return `invalid escape sequence \\${escapeCharacter}`;
        }
        this.position += 2;
        continue;
      }
      this.position++;
    }
    this.position = start;
    return "unterminated string";
  }

  private number(): string | undefined {
    const match = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (found === null || found[0] === "-") return "invalid number";
    const end = this.position + found[0].length;
    const next = this.text.charAt(end);
    if (/[0-9.eE+-]/.test(next)) {
      this.position = end;
      return `invalid number: unexpected '${next}'`;
    }
    this.position = end;
    return undefined;
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length) {
      const code = this.text.charCodeAt(this.position);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return;
      this.position++;
    }
  }

  private describeHere(): string {
    if (this.position >= this.text.length) return "end of input";
    const codePoint = this.text.codePointAt(this.position) as number;
    return `'${String.fromCodePoint(codePoint)}'`;
  }
}
