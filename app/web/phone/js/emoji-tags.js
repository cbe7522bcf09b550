import EMOJI from '../vendor/emoji.js';

// ntfy's tags: those that are GitHub emoji shortcodes (`warning`, `tada`, …; the table is
// generated from gemoji at build time) are shown as emoji before the title, as ntfy's apps do;
// the others stay tags.

/** Splits tags into emoji (in order) and the remaining tags. */
export function splitTags(tags) {
  const emoji = [];
  const rest = [];
  for (const tag of tags ?? []) {
    const key = String(tag).toLowerCase();
    if (Object.hasOwn(EMOJI, key)) emoji.push(EMOJI[key]);
    else rest.push(tag);
  }
  return { emoji, rest };
}
