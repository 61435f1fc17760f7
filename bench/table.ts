/** A titled table of benchmark results. */
export interface BenchSection {
    readonly title: string;
    readonly columns: readonly string[];
    readonly rows: readonly (readonly (string | number)[])[];
    /** Lines printed under the table. */
    readonly notes?: readonly string[];
}

/** Renders a section as a Markdown table, columns padded so it also reads well in a terminal. */
export function renderSection(section: BenchSection): string {
    const cells = [section.columns, ...section.rows].map((row) => row.map(String));
    const widths = section.columns.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
    const line = (row: readonly string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
    const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
    const [header, ...body] = cells;
    return [`## ${section.title}`, "", line(header), rule, ...body.map(line), "", ...(section.notes ?? [])].join("\n");
}
