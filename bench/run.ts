/**
 * `npm run bench [section ...]`: prints the benchmark tables (every section, or the ones named: kms, eval,
 * provider, engine, local). Not a timed test: numbers are for reading, the assertions about them live in test/providers.
 */
import { engineNoopRatios } from "./engine-noop";
import { kmsCallsPerOperation } from "./kms-calls";
import { localRunPhases } from "./local-phases";
import { providerStartTimes } from "./provider-start";
import { stackEvaluationTime } from "./stack-eval";
import { type BenchSection, renderSection } from "./table";

const SECTIONS: Record<string, () => Promise<BenchSection | BenchSection[]>> = {
    kms: () => kmsCallsPerOperation(),
    eval: () => stackEvaluationTime(),
    provider: () => providerStartTimes(),
    engine: () => engineNoopRatios(),
    local: () => localRunPhases(),
};

async function main(): Promise<void> {
    const names = process.argv.slice(2);
    const unknown = names.filter((name) => !(name in SECTIONS));
    if (unknown.length > 0) {
        throw new Error(`unknown bench section(s) ${unknown.join(", ")}; choose from ${Object.keys(SECTIONS).join(", ")}`);
    }
    for (const name of names.length > 0 ? names : Object.keys(SECTIONS)) {
        // Printed as each finishes: the engine and local sections take minutes.
        console.log(`${[await SECTIONS[name]()].flat().map(renderSection).join("\n\n")}\n`);
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
