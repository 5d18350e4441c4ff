/** Reading Markdown in tests. */

/** The relative link targets of a Markdown file (no URLs, no in-page anchors), without their #anchor. */
export function relativeLinks(markdown: string): string[] {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split('#')[0]!;
    if (target !== '' && !/^[a-z]+:/i.test(target)) out.add(target);
  }
  return [...out].sort();
}
