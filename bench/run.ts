/**
 * `npm run bench`: prints the benchmark tables. Not a timed test: numbers are for reading, the assertions about
 * them live in test/providers.
 */
import { kmsCallsPerOperation } from "./kms-calls";
import { stackEvaluationTime } from "./stack-eval";
import { type BenchSection, renderSection } from "./table";

async function main(): Promise<void> {
    const sections: BenchSection[] = [
        await kmsCallsPerOperation(),
        await stackEvaluationTime(),
    ];
    console.log(sections.map(renderSection).join("\n\n"));
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
