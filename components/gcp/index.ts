// The gcp runtime edge (loaded on demand by ../step-ca.ts): Cloud KMS keys, the CA's service account, the APIs.
export { CaKeys, type CaKeysArgs } from "./ca-keys";
export { CaServiceAccount, type CaServiceAccountArgs } from "./ca-service-account";
export {
    DNS_SERVICE,
    GCE_SERVICES,
    ProjectServices,
    REQUIRED_SERVICES,
    type ProjectServicesArgs,
} from "./project-services";
