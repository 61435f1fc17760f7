/**
 * Durations as step-ca reads them from ca.json: Go's `time.ParseDuration` syntax ("1h30m", "720h", "0.5s"). step-ca
 * refuses anything else at start, so validation uses the same grammar to refuse it at preview instead.
 *
 * Leaf module (no imports), so dynamic providers that use it serialize cleanly.
 */

/** Seconds per unit, as Go's time package defines the units (µ as U+00B5 or U+03BC). */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
    ns: 1e-9,
    us: 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
};

/**
 * The duration in seconds, or undefined when Go's `time.ParseDuration` would refuse the text. Accepts what Go
 * accepts: an optional sign, then one or more decimal numbers each with a unit, or a bare "0".
 */
export function parseGoDuration(text: string): number | undefined {
    const match = /^([-+]?)(.*)$/s.exec(text)!;
    const sign = match[1] === "-" ? -1 : 1;
    const body = match[2];
    if (body === "0") {
        return 0;
    }
    if (body === "") {
        return undefined;
    }
    const part = /(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
    let seconds = 0;
    let at = 0;
    while (at < body.length) {
        part.lastIndex = at;
        const piece = part.exec(body);
        if (!piece) {
            return undefined;
        }
        seconds += Number(piece[1]) * UNIT_SECONDS[piece[2]];
        at = part.lastIndex;
    }
    return sign * seconds;
}

/** A duration in seconds written the short way people read it ("90m" → "1h30m0s" as Go prints it). */
export function formatGoDuration(seconds: number): string {
    if (seconds === 0) {
        return "0s";
    }
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.round((seconds % 60) * 1e9) / 1e9;
    return `${h > 0 ? `${h}h` : ""}${h > 0 || m > 0 ? `${m}m` : ""}${s}s`;
}
