/**
 * Containerfile words as Docker's shell lexer reads them: quotes, the
 * escape character, $VAR and ${VAR} forms; ENV/LABEL/ARG pairs; exec forms.
 */
import { assertEquals, assertThrows } from "../assert.ts";
import {
  execForm,
  expandWord,
  expandWords,
  keyValues,
} from "../../src/build/words.ts";

const vars = new Map([["A", "1"], ["B", "two words"], ["E", ""]]);

Deno.test("words: variables in their forms, quotes removed", () => {
  assertEquals(expandWord("$A", vars), "1");
  assertEquals(expandWord("${A}x", vars), "1x");
  assertEquals(expandWord("$Ax", vars), "");
  assertEquals(expandWord("${NONE:-dflt}", vars), "dflt");
  assertEquals(expandWord("${E:-dflt}", vars), "dflt");
  assertEquals(expandWord("${E-dflt}", vars), "");
  assertEquals(expandWord("${A:+set}", vars), "set");
  assertEquals(expandWord("${NONE:+set}", vars), "");
  assertEquals(expandWord("'$A'", vars), "$A");
  assertEquals(expandWord('"$B"', vars), "two words");
  assertEquals(expandWord("\\$A", vars), "$A");
  assertEquals(expandWord('"a\\"b"', vars), 'a"b');
  assertEquals(expandWord("cost $", vars), "cost $");
  assertEquals(expandWord("`$A", vars, "`"), "$A");
  assertThrows(
    () => expandWord("${NONE:?must be set}", vars),
    /must be set/,
  );
  assertThrows(() => expandWord("'open", vars), /single-quote/);
});

Deno.test("words: split at unquoted white space", () => {
  assertEquals(expandWords('a "$B" c\\ d', vars), ["a", "two words", "c d"]);
  assertEquals(expandWords("  $B  ", vars), ["two", "words"]);
});

Deno.test("words: KEY=VALUE pairs, the old ENV form, bare ARG names", () => {
  assertEquals(keyValues('X=$A Y="$B" Z=', vars), [
    ["X", "1"],
    ["Y", "two words"],
    ["Z", ""],
  ]);
  assertEquals(keyValues("X hello $A world", vars), [["X", "hello 1 world"]]);
  assertEquals(keyValues("NAME OTHER=2", vars, "\\", true), [
    ["NAME", undefined],
    ["OTHER", "2"],
  ]);
  assertThrows(() => keyValues("X=1 Y", vars), /can't find =/);
});

Deno.test("words: the exec form is a JSON array of strings, else the shell form", () => {
  assertEquals(execForm('["a", "b c"]'), ["a", "b c"]);
  assertEquals(execForm("[not json]"), undefined);
  assertEquals(execForm("[1, 2]"), undefined);
  assertEquals(execForm("echo [x]"), undefined);
});
