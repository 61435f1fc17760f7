// The docker runtime edge (loaded on demand by ../step-ca.ts): step-ca in a container.
export { StepCaContainer, type StepCaContainerArgs } from "./step-ca-container";
