// Command pulumi-language-nodejs is a minimal Node.js language host for the Pulumi engine.
//
// Why it exists: Pulumi's own language host lives in the Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go module proxy reachable from our
// machines does not serve (no version list, no tag, no pseudo-version: "403 This module version is not available").
// The engine (github.com/pulumi/pulumi/pkg/v3, which the proxy does serve) only needs a gRPC LanguageRuntime server
// named pulumi-language-nodejs next to the pulumi binary, so this file implements the part of that protocol the
// engine uses for `preview`/`up`/`refresh`/`destroy`:
//
//   - Handshake / GetPluginInfo
//   - GetRequiredPlugins: packages in node_modules whose package.json says {"pulumi": {"resource": true}}
//     (GetRequiredPackages stays Unimplemented; the engine then falls back to GetRequiredPlugins)
//   - Run: starts `node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor … <program>` with PULUMI_CONFIG and
//     PULUMI_CONFIG_SECRET_KEYS in the environment, the contract the @pulumi/pulumi Node.js SDK implements.
//
// Runtime options read from Pulumi.yaml (`runtime: {name: nodejs, options: {...}}`), as Pulumi documents them:
// `typescript` (bool, default true: the SDK loads ts-node), `nodeargs` (string, split on blanks, passed to node
// before the run script), `tsconfig` (path, PULUMI_NODEJS_TSCONFIG_PATH).
//
// Everything else (InstallDependencies, About, GetProgramDependencies, RunPlugin, code generation, templates) answers
// Unimplemented; use npm directly. This is no replacement for Pulumi's host, only what a CLI built from the Go
// module proxy needs to run a Node.js program.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is set with -ldflags "-X main.version=..." by scripts/install-pulumi.sh.
var version = "0.0.0-dev"

// The @pulumi/pulumi SDK exits with this code after it has already shown the user an actionable error.
const exitCodeAfterUserActionableMessage = 32

func main() {
	engineAddress, tracing := parseArgs(os.Args[1:])

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not find node on the $PATH: %v\n", err)
		os.Exit(1)
	}

	host := &nodeHost{nodeBin: nodeBin, engineAddress: engineAddress, tracing: tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the language host RPC server: %v\n", err)
		os.Exit(1)
	}

	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

// parseArgs takes the engine address (the last positional argument) and --tracing; the engine may also pass
// logging flags (-v=N, --logtostderr, --logflow), which this host ignores.
func parseArgs(args []string) (engineAddress, tracing string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			tracing = a[strings.Index(a, "=")+1:]
		case a == "--root" || a == "-root":
			i++ // takes a value; unused
		case strings.HasPrefix(a, "-"):
			// logging flags
		default:
			engineAddress = a
		}
	}
	return engineAddress, tracing
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	nodeBin       string
	engineAddress string
	tracing       string
}

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins lists the resource plugins declared by packages in the program's node_modules (and those of
// its parent directories, as Node resolves them).
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram() //nolint:staticcheck // older engines
	}
	seen := map[string]bool{}
	var plugins []*pulumirpc.PluginDependency
	for d := dir; d != ""; {
		for _, p := range pluginsIn(filepath.Join(d, "node_modules")) {
			if key := p.Name + "@" + p.Version; !seen[key] {
				seen[key] = true
				plugins = append(plugins, p)
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	sort.Slice(plugins, func(i, j int) bool { return plugins[i].Name < plugins[j].Name })
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func pluginsIn(nodeModules string) []*pulumirpc.PluginDependency {
	entries, err := os.ReadDir(nodeModules)
	if err != nil {
		return nil
	}
	var pkgDirs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(filepath.Join(nodeModules, name))
			if err != nil {
				continue
			}
			for _, s := range scoped {
				pkgDirs = append(pkgDirs, filepath.Join(nodeModules, name, s.Name()))
			}
			continue
		}
		pkgDirs = append(pkgDirs, filepath.Join(nodeModules, name))
	}
	var out []*pulumirpc.PluginDependency
	for _, dir := range pkgDirs {
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err != nil {
			continue
		}
		var pkg packageJSON
		if json.Unmarshal(b, &pkg) != nil || !pkg.Pulumi.Resource {
			continue
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(strings.TrimPrefix(pkg.Name, "@pulumi/"), "@")
		}
		v := pkg.Pulumi.Version
		if v == "" {
			v = pkg.Version
		}
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		out = append(out, &pulumirpc.PluginDependency{Name: name, Kind: "resource", Version: v, Server: pkg.Pulumi.Server})
	}
	return out
}

// Run executes the program with the @pulumi/pulumi run script of the program's own node_modules.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	opts := optionsOf(info.GetOptions())

	runScript, err := h.resolve(programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(
			"it looks like the Pulumi SDK has not been installed (could not resolve @pulumi/pulumi/cmd/run "+
				"from %s: %v); run npm install", programDir, err)}, nil
	}

	var args []string
	args = append(args, strings.Fields(opts.nodeArgs)...)
	args = append(args, runScript)
	flag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", info.GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flag("parallel", fmt.Sprint(req.GetParallel()))
	}
	flag("tracing", h.tracing)

	entry := info.GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram() //nolint:staticcheck // older engines
	}
	switch {
	case entry == "" || entry == ".":
		if filepath.Clean(programDir) == filepath.Clean(req.GetPwd()) {
			args = append(args, ".") // the SDK then honours package.json "main"/"exports"
		} else {
			args = append(args, programDir)
		}
	case filepath.IsAbs(entry):
		args = append(args, entry)
	default:
		args = append(args, filepath.Join(programDir, entry))
	}
	args = append(args, req.GetArgs()...)

	configJSON, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, h.nodeBin, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code := exitErr.ExitCode()
			if code == exitCodeAfterUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run node): %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// resolve finds a module the way Node does from dir (so the program's own copy of @pulumi/pulumi is used).
func (h *nodeHost) resolve(dir, module string) (string, error) {
	cmd := exec.Command(h.nodeBin, "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

type runtimeOptions struct {
	typescript bool
	nodeArgs   string
	tsconfig   string
}

func optionsOf(s *structpb.Struct) runtimeOptions {
	o := runtimeOptions{typescript: true}
	if s == nil {
		return o
	}
	m := s.AsMap()
	if v, ok := m["typescript"].(bool); ok {
		o.typescript = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		o.nodeArgs = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		o.tsconfig = v
	}
	return o
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
