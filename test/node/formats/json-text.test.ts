import { expect, it } from "vitest";
import {
  findDuplicateKeys,
  findDuplicateTopLevelKeys,
  findJsonSyntaxError,
} from "../../../shared/formats/json-text.ts";

it.each([
  ['{"a": 1,}', 1, 8, "trailing comma before the closing bracket"],
  ['{"a" 1}', 1, 6, "expected ':' after an object key, found '1'"],
  ['{"a": 1\n "b": 2}', 2, 2, "expected ',' or '}' after an object member, found '\"'"],
  ["[1, 2", 1, 6, "unexpected end of input"],
  ['["x\ty"]', 1, 4, "control character inside a string; escape it, for example as \\n"],
  ['"\\q"', 1, 2, "invalid escape sequence \\q"],
  ['{"a": tru}', 1, 7, "unexpected 't'; expected a JSON value"],
  ["[01]", 1, 3, "invalid number: unexpected '1'"],
  ["{} x", 1, 4, "unexpected text after the JSON value"],
  ["", 1, 1, "unexpected end of input"],
])("locates the syntax error in %j", (text, line, column, message) => {
  expect(() => JSON.parse(text)).toThrow(SyntaxError);
  expect(findJsonSyntaxError(text)).toMatchObject({ line, column, message });
});

it("accepts valid JSON", () => {
  const text = '{"a": [1, -2.5e3, true, null, {"b": "\\u00e9\\n"}], "c": {}}';
  expect(findJsonSyntaxError(text)).toBeUndefined();
});

it("handles deep nesting without recursion", () => {
  expect(findJsonSyntaxError("[".repeat(200_000))).toMatchObject({ column: 200_001 });
});

it("finds repeated top-level keys only", () => {
  const text = '{"a": 1, "b": {"a": 2, "a": 3}, "a\\"": 4, "a": 5, "a\\"": 6}';
  expect(findDuplicateTopLevelKeys(text)).toEqual(["a", 'a"']);
  expect(findDuplicateTopLevelKeys('[{"a": 1, "a": 2}]')).toEqual([]);
});

it("finds repeated keys of a nested member", () => {
  const text =
    '{"references": {"a": 1, "a": 2}, "predictions": {"x": "1", "y": {"x": 0}, "x": "2", "y": "3"}}';
  expect(findDuplicateKeys(text, ["predictions"])).toEqual(["x", "y"]);
  expect(findDuplicateKeys(text, ["references"])).toEqual(["a"]);
  expect(findDuplicateKeys(text, ["missing"])).toEqual([]);
  expect(findDuplicateKeys('{"predictions": [{"x": 1}, {"x": 2}]}', ["predictions"])).toEqual([]);
  expect(findDuplicateKeys('[{"predictions": {"x": 1, "x": 2}}]', ["predictions"])).toEqual([]);
});

it("reads the last occurrence of a repeated path key", () => {
  const text = '{"predictions": {"x": 1, "x": 2}, "predictions": {"y": 1, "z": 2}}';
  expect(findDuplicateKeys(text, ["predictions"])).toEqual([]);
});
