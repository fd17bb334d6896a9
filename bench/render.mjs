// Renders bench/RESULTS.md from a run's results (and the "before" run on main, when recorded).
export function renderMarkdown(r) {
  return `# Benchmark results\n\n\`\`\`json\n${JSON.stringify(r, null, 2)}\n\`\`\`\n`;
}
