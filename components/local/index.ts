// The local runtime edge (loaded on demand by ../step-ca.ts): keys on the KMS emulator, the bundle in a directory.
export { LocalCaKeys, type LocalCaKeysArgs } from "./local-ca-keys";
export { StepCaBundle, type StepCaBundleArgs } from "./step-ca-bundle";
