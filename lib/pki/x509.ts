import type * as X509 from "@peculiar/x509";

/**
 * Loads `@peculiar/x509`, which needs the `reflect-metadata` polyfill loaded first. Required on demand rather than
 * imported: dynamic providers are serialized into Pulumi state and must load their libraries at run time, in order.
 */
export function loadX509(): typeof X509 {
    require("reflect-metadata");
    return require("@peculiar/x509") as typeof X509;
}
