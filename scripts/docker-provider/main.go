// Command pulumi-resource-docker is a test-only Pulumi resource provider bridged from the upstream Terraform docker
// provider (kreuzwerker/terraform-provider-docker), for environments where @pulumi/docker's own plugin cannot be
// downloaded. It answers to the tokens and property names the unmodified @pulumi/docker SDK sends.
//
//	pulumi-resource-docker                   serve (as the Pulumi engine starts it); reads schema.json beside itself
//	pulumi-resource-docker tfgen schema ...  generate that schema with the bridge (run once at install)
package main

import (
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/stepcaexport"
)

// version is the @pulumi/docker SDK version this provider stands in for: the engine asks for that plugin version.
const version = "5.2.0"

func resource(name string) *tfbridge.ResourceInfo {
	return &tfbridge.ResourceInfo{Tok: tokens.Type("docker:index/" + lowerFirst(name) + ":" + name)}
}

func dataSource(name string) *tfbridge.DataSourceInfo {
	return &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember("docker:index/" + name + ":" + name)}
}

func withFields(r *tfbridge.ResourceInfo, fields map[string]*tfbridge.SchemaInfo) *tfbridge.ResourceInfo {
	r.Fields = fields
	return r
}

func lowerFirst(s string) string { return string(s[0]|0x20) + s[1:] }

// providerInfo maps Terraform types to the tokens @pulumi/docker 5.2.0 uses (its generated SDK lists them);
// property names follow the bridge's default naming, as pulumi-docker's do, except where it overrides them (checked
// against the SDK by test/docker/provider-schema.test.ts).
func providerInfo() tfbridge.ProviderInfo {
	return tfbridge.ProviderInfo{
		P:          shimv2.NewProvider(stepcaexport.New(version)()),
		Name:       "docker",
		GitHubOrg:  "kreuzwerker",
		Version:    version,
		License:    "Apache-2.0",
		Repository: "https://github.com/kreuzwerker/terraform-provider-docker",
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_buildx_builder": resource("BuildxBuilder"),
			"docker_config":         resource("ServiceConfig"),
			"docker_container": withFields(resource("Container"), map[string]*tfbridge.SchemaInfo{
				// pulumi-docker keeps these two singular where the bridge would pluralize them.
				"command":           {Name: "command"},
				"networks_advanced": {Name: "networksAdvanced"},
			}),
			"docker_image":          resource("RemoteImage"),
			"docker_network":        resource("Network"),
			"docker_plugin":         resource("Plugin"),
			"docker_registry_image": resource("RegistryImage"),
			"docker_secret":         resource("Secret"),
			"docker_service":        resource("Service"),
			"docker_tag":            resource("Tag"),
			"docker_volume":         resource("Volume"),
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image":                    dataSource("getRemoteImage"),
			"docker_logs":                     dataSource("getLogs"),
			"docker_network":                  dataSource("getNetwork"),
			"docker_plugin":                   dataSource("getPlugin"),
			"docker_registry_image":           dataSource("getRegistryImage"),
			"docker_registry_image_manifests": dataSource("getRegistryImageManifests"),
		},
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		tfgen.Main("docker", version, providerInfo())
		return
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	schema, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "schema.json"))
	if err != nil {
		panic(err)
	}
	tfbridge.Main("docker", version, providerInfo(), schema)
}
