import * as pulumi from "@pulumi/pulumi";
import { LocalBundle } from "../../dynamic-providers/local-bundle";
import { StepCaLayout } from "../../lib/step-ca/layout";

/** Inputs of {@link StepCaBundle}. */
export interface StepCaBundleArgs {
    /** Absolute paths the files go to; ca.json already refers to them. */
    paths: StepCaLayout;
    caJson: pulumi.Input<string>;
    defaultsJson: pulumi.Input<string>;
    rootCertPem: pulumi.Input<string>;
    intermediateCertPem: pulumi.Input<string>;
    /** step-ca's password file content (secret). */
    password: pulumi.Input<string>;
}

/**
 * Local mode's {@link StepCaContainer}: the same files written to a local STEPPATH instead of uploaded to a
 * container, ready for `step-ca` or `step ca health` on this machine. There is no credentials file: the emulator
 * needs none.
 */
export class StepCaBundle extends pulumi.ComponentResource {
    readonly bundle: LocalBundle;
    /** The directory to use as STEPPATH. */
    readonly stepPath: string;

    constructor(name: string, args: StepCaBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:local:StepCaBundle", name, {}, opts);
        const { paths } = args;
        this.stepPath = paths.stepPath;
        this.bundle = new LocalBundle(
            name,
            {
                paths: {
                    caJson: paths.caJson,
                    defaultsJson: paths.defaultsJson,
                    rootCert: paths.rootCert,
                    intermediateCert: paths.intermediateCert,
                    password: paths.password,
                },
                caJson: args.caJson,
                defaultsJson: args.defaultsJson,
                rootCertPem: args.rootCertPem,
                intermediateCertPem: args.intermediateCertPem,
                password: pulumi.secret(args.password),
            },
            { parent: this },
        );
        this.registerOutputs({ stepPath: this.stepPath });
    }
}
