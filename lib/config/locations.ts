/**
 * The Cloud KMS locations `location` may name: the one list the program checks against.
 *
 * Source: Google's "Cloud KMS locations" page, https://cloud.google.com/kms/docs/locations (its Americas,
 * Asia-Pacific, Europe/Middle East/Africa and Worldwide tables, 2025 edition), plus the locations the Cloud KMS REST
 * reference offers for `projects.locations.get`
 * (https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations/get). Google adds locations regularly:
 * when one is missing, add it here (and a case to test/unit/config.test.ts). The error for an unknown location says
 * so.
 *
 * Whether Cloud HSM (protectionLevel HSM) is offered is deliberately not checked: Google's per-location HSM table
 * changes more often than this list, and Cloud KMS itself refuses an HSM key where there is none, naming the
 * location. Software keys can be created in every Cloud KMS location.
 */
export const CLOUD_KMS_LOCATIONS = {
    /** Single regions, e.g. `us-central1` (Iowa). */
    regions: [
        // Americas
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-central2",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-east7",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
        "us-west8",
        // Asia-Pacific
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "asia-southeast3",
        "australia-southeast1",
        "australia-southeast2",
        // Europe, Middle East and Africa
        "africa-south1",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
    ],
    /** Continental multi-regions. */
    multiRegions: ["us", "ca", "europe", "asia", "in"],
    /**
     * Named groups of two to four regions (Google's page once called the two-region ones dual-regional; it now lists
     * them all as multi-regions), e.g. `nam4` = Iowa, South Carolina and Oklahoma; `eur4` = Netherlands and Finland.
     */
    regionGroups: [
        "nam3",
        "nam4",
        "nam6",
        "nam7",
        "nam8",
        "nam9",
        "nam10",
        "nam11",
        "nam12",
        "asia1",
        "eur3",
        "eur4",
        "eur5",
        "eur6",
        "eur7",
        "eur8",
    ],
    /** Worldwide. */
    global: ["global"],
} as const;

/** Every location in {@link CLOUD_KMS_LOCATIONS}. */
export const ALL_CLOUD_KMS_LOCATIONS: ReadonlySet<string> = new Set(Object.values(CLOUD_KMS_LOCATIONS).flat());

/** Whether Cloud KMS offers `location` (exact, lowercase, as the API takes it). */
export function isCloudKmsLocation(location: string): boolean {
    return ALL_CLOUD_KMS_LOCATIONS.has(location);
}
