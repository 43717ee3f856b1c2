/** Random container names in Docker's adjective_noun style. */

const ADJECTIVES = [
  "admiring",
  "brave",
  "calm",
  "dazzling",
  "eager",
  "festive",
  "gentle",
  "happy",
  "inspiring",
  "jolly",
  "keen",
  "lucid",
  "modest",
  "nifty",
  "optimistic",
  "peaceful",
  "quirky",
  "relaxed",
  "serene",
  "tender",
  "upbeat",
  "vibrant",
  "wizardly",
  "youthful",
  "zealous",
];
const NOUNS = [
  "archimedes",
  "babbage",
  "curie",
  "darwin",
  "euler",
  "fermi",
  "gauss",
  "hopper",
  "italus",
  "jennings",
  "kepler",
  "lovelace",
  "meitner",
  "noether",
  "ostrom",
  "pascal",
  "quimby",
  "ritchie",
  "shannon",
  "turing",
  "umbriel",
  "volta",
  "wozniak",
  "yalow",
  "zuse",
];

/** A random name; `taken` says which names are in use. */
export function randomName(taken: (name: string) => boolean): string {
  const pick = (list: string[]) =>
    list[Math.floor(Math.random() * list.length)];
  for (let i = 0;; i++) {
    const base = `${pick(ADJECTIVES)}_${pick(NOUNS)}`;
    const name = i < 10 ? base : `${base}${i}`;
    if (!taken(name)) return name;
  }
}

/** Docker's rule for user-chosen names. */
export function validName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name);
}
