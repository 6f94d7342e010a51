package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scimgate/scimgate/config"
)

// envRef matches every SCIMGATE_* name, wherever it appears (values,
// keys, comments): a name that is not a config key is a typo somewhere.
var envRef = regexp.MustCompile(`SCIMGATE_[A-Z0-9_]+`)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docs decodes every YAML document of a (multi-document) file.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(read(t, path)))
	var out []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
}

// at walks a decoded YAML value along keys (string) and list indexes (int).
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func envNames() map[string]bool {
	names := map[string]bool{}
	for _, k := range config.Keys() {
		names[k.Env] = true
	}
	return names
}

// deployFiles are every file of the deployment set, relative to this package.
func deployFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../Dockerfile", "../docker-compose.yml", "../.env.example", "README.md", "kubernetes/secrets.env.example"}
	k8s, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(k8s) == 0 {
		t.Fatalf("no kubernetes/*.yaml: %v", err)
	}
	return append(files, k8s...)
}

func TestEveryEnvNameIsAConfigKey(t *testing.T) {
	known := envNames()
	seen := 0
	for _, f := range deployFiles(t) {
		for _, name := range envRef.FindAllString(string(read(t, f)), -1) {
			seen++
			if !known[name] {
				t.Errorf("%s: %s is not the environment name of any config key (gateway config keys)", f, name)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no SCIMGATE_ names found at all")
	}
}

// kube returns the Kubernetes objects by kind/name.
func kube(t *testing.T) map[string]map[string]any {
	t.Helper()
	objs := map[string]map[string]any{}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, d := range docs(t, f) {
			kind, name := str(d["kind"]), str(at(d, "metadata", "name"))
			if kind == "" || name == "" || str(d["apiVersion"]) == "" {
				t.Errorf("%s: object without apiVersion, kind or metadata.name", f)
			}
			objs[kind+"/"+name] = d
		}
	}
	return objs
}

// envFile reads a KEY=VALUE file as kustomize's secretGenerator envs does
// (comments and blank lines skipped).
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(string(read(t, path)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
	return env
}

// generatedSecrets are the names of kustomization.yaml's secretGenerator
// entries.
func generatedSecrets(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, g := range asList(at(docs(t, "kubernetes/kustomization.yaml")[0], "secretGenerator")) {
		names = append(names, str(at(g, "name")))
	}
	return names
}

// TestKustomizeImageAndSecret: the image is a kustomize images: entry (the
// Deployment names it, the operator sets the registry and tag), and the
// Secret is generated from the uncommitted secrets.env: no Secret manifest
// with placeholder values is shipped to be applied over a real one.
func TestKustomizeImageAndSecret(t *testing.T) {
	k := docs(t, "kubernetes/kustomization.yaml")[0]
	image := str(at(kube(t)["Deployment/scimgate"], "spec", "template", "spec", "containers", 0, "image"))
	var entry any
	for _, im := range asList(at(k, "images")) {
		if str(at(im, "name")) == image {
			entry = im
		}
	}
	if entry == nil || str(at(entry, "newName")) == "" || yamlString(at(entry, "newTag")) == "" {
		t.Fatalf("the Deployment's image %q has no images: entry with newName and newTag in kustomization.yaml", image)
	}
	for name, o := range kube(t) {
		if str(o["kind"]) == "Secret" {
			t.Errorf("%s is shipped as a manifest; generate it with secretGenerator", name)
		}
	}
	g := asList(at(k, "secretGenerator"))
	if len(g) != 1 || str(at(g[0], "name")) != "scimgate-secrets" || str(at(g[0], "envs", 0)) != "secrets.env" {
		t.Fatalf("secretGenerator: %v, want scimgate-secrets from secrets.env", g)
	}
	if !slices.Contains(strings.Split(string(read(t, "../.gitignore")), "\n"), "/deploy/kubernetes/secrets.env") {
		t.Error(".gitignore does not keep deploy/kubernetes/secrets.env out of git")
	}
	for _, doc := range []string{"README.md", "../README.md"} {
		if b := string(read(t, doc)); !strings.Contains(b, "docker build") || !strings.Contains(b, "kustomize edit set image") {
			t.Errorf("%s does not say how to build, push and select the image", doc)
		}
	}
}

// TestKustomizeBuild renders the directory with kubectl's kustomize (when
// installed; it runs offline) from a copy holding secrets.env made from
// the example: the image is replaced and the Deployment's envFrom names the
// generated, content-hashed Secret.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	dir := t.TempDir()
	files, _ := filepath.Glob("kubernetes/*")
	for _, f := range files {
		if filepath.Base(f) == "secrets.env" {
			continue // a local, real one: never read here
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), read(t, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets.env"), read(t, "kubernetes/secrets.env.example"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	var secret, dep map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch str(d["kind"]) {
		case "Secret":
			secret = d
		case "Deployment":
			dep = d
		}
	}
	if secret == nil || dep == nil {
		t.Fatalf("rendered output lacks the Secret or the Deployment:\n%s", out)
	}
	name := str(at(secret, "metadata", "name"))
	if !strings.HasPrefix(name, "scimgate-secrets-") {
		t.Errorf("generated Secret %q has no content hash", name)
	}
	c := at(dep, "spec", "template", "spec", "containers", 0)
	if ref := str(at(c, "envFrom", 0, "secretRef", "name")); ref != name {
		t.Errorf("envFrom names %q, the generated Secret is %q", ref, name)
	}
	if img := str(at(c, "image")); img != "registry.example.com/scimgate:0.1.0" {
		t.Errorf("rendered image %q", img)
	}
	if m, _ := at(secret, "data").(map[string]any); len(m) != len(envFile(t, "kubernetes/secrets.env.example")) {
		t.Errorf("generated Secret data: %v", at(secret, "data"))
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	k := docs(t, "kubernetes/kustomization.yaml")[0]
	var listed []string
	for _, r := range at(k, "resources").([]any) {
		listed = append(listed, str(r))
	}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !slices.Contains(listed, b) {
			t.Errorf("kustomization.yaml does not list %s", b)
		}
	}
}

// TestKubernetesConfigLoads runs the ConfigMap's config.yaml, with the
// Secret's variables as environment, through config.Load: unknown keys and
// invalid values fail here, not at deploy time.
func TestKubernetesConfigLoads(t *testing.T) {
	objs := kube(t)
	cm := objs["ConfigMap/scimgate-config"]
	raw := str(at(cm, "data", "config.yaml"))
	if raw == "" {
		t.Fatal("ConfigMap scimgate-config has no data.config.yaml")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	// The Secret is generated from secrets.env, whose template is
	// secrets.env.example.
	env := envFile(t, "kubernetes/secrets.env.example")
	// The shipped pepper is a placeholder that must stop the gateway if
	// applied unchanged; the rest is checked with a real-looking value.
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var ke *config.KeyError
	if _, err := config.Load(path, lookup); !errors.As(err, &ke) || ke.Key != "tokens.pepper" {
		t.Fatalf("secrets.env.example's placeholder pepper must be refused naming tokens.pepper; got %v", err)
	}
	env["SCIMGATE_TOKENS_PEPPER"] = strings.Repeat("5e", 32)
	cfg, err := config.Load(path, lookup)
	if err != nil {
		t.Fatalf("config.Load(ConfigMap config.yaml + Secret env): %v", err)
	}
	for _, k := range []string{"SCIMGATE_ADMIN_TOKEN_HASH", "SCIMGATE_REDIS_URL", "SCIMGATE_TOKENS_PEPPER"} {
		if env[k] == "" {
			t.Errorf("secrets.env.example lacks %s", k)
		}
	}
	if cfg.Redis.URL == "" {
		t.Error("no redis.url: replicas would each start an embedded, unshared Redis")
	}
	if !strings.HasPrefix(cfg.Listen, "0.0.0.0:") {
		t.Errorf("listen %q is not reachable from outside the pod", cfg.Listen)
	}
	checkDeployment(t, objs, cfg)
}

func checkDeployment(t *testing.T, objs map[string]map[string]any, cfg config.Config) {
	d := objs["Deployment/scimgate"]
	if d == nil {
		t.Fatal("no Deployment scimgate")
	}
	if n, _ := at(d, "spec", "replicas").(int); n < 2 {
		t.Errorf("replicas = %v, want at least 2", at(d, "spec", "replicas"))
	}
	podLabels, _ := at(d, "spec", "template", "metadata", "labels").(map[string]any)
	matches := func(sel any) bool {
		m, _ := sel.(map[string]any)
		for k, v := range m {
			if podLabels[k] != v {
				return false
			}
		}
		return len(m) > 0
	}
	if !matches(at(d, "spec", "selector", "matchLabels")) {
		t.Error("Deployment selector does not match its pod labels")
	}
	c := at(d, "spec", "template", "spec", "containers", 0)
	ports := map[string]string{}
	for _, p := range at(c, "ports").([]any) {
		ports[str(at(p, "name"))] = yamlString(at(p, "containerPort"))
	}
	if _, port, _ := strings.Cut(cfg.Listen, ":"); ports["http"] != port {
		t.Errorf("containerPort http %q differs from listen %q", ports["http"], cfg.Listen)
	}
	if _, port, _ := strings.Cut(cfg.Metrics.Listen, ":"); cfg.Metrics.Listen != "" && ports["metrics"] != port {
		t.Errorf("containerPort metrics %q differs from metrics.listen %q", ports["metrics"], cfg.Metrics.Listen)
	}
	if p := str(at(c, "readinessProbe", "httpGet", "path")); p != "/readyz" {
		t.Errorf("readinessProbe path %q, want /readyz", p)
	}
	if p := str(at(c, "livenessProbe", "httpGet", "path")); p != "/healthz" {
		t.Errorf("livenessProbe path %q, want /healthz", p)
	}
	if at(c, "securityContext", "readOnlyRootFilesystem") != true || at(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("container must have readOnlyRootFilesystem: true and allowPrivilegeEscalation: false")
	}
	if at(d, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("pod must have runAsNonRoot: true")
	}
	if u, _ := at(d, "spec", "template", "spec", "securityContext", "runAsUser").(int); u == 0 {
		t.Error("pod runAsUser must be a non-zero uid")
	}
	if grace, _ := at(d, "spec", "template", "spec", "terminationGracePeriodSeconds").(int); grace <= int(cfg.ShutdownTimeout.Std().Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %d must exceed shutdown_timeout %s", grace, cfg.ShutdownTimeout)
	}
	// --config points into the ConfigMap volume; envFrom names the Secret.
	args := at(c, "args").([]any)
	i := slices.Index(args, any("--config"))
	if i < 0 || i+1 >= len(args) {
		t.Fatal("container args lack --config FILE")
	}
	mount := str(at(c, "volumeMounts", 0, "mountPath"))
	if want := mount + "/config.yaml"; str(args[i+1]) != want {
		t.Errorf("--config %v, want %s (the ConfigMap mount)", args[i+1], want)
	}
	if cm := str(at(d, "spec", "template", "spec", "volumes", 0, "configMap", "name")); objs["ConfigMap/"+cm] == nil {
		t.Errorf("volume names ConfigMap %q, which is not defined", cm)
	}
	if s := str(at(c, "envFrom", 0, "secretRef", "name")); !slices.Contains(generatedSecrets(t), s) {
		t.Errorf("envFrom names Secret %q, which kustomization.yaml does not generate", s)
	}
	for _, name := range []string{"Service/scimgate", "Service/scimgate-metrics", "PodDisruptionBudget/scimgate"} {
		o := objs[name]
		if o == nil {
			t.Errorf("no %s", name)
			continue
		}
		sel := at(o, "spec", "selector")
		if strings.HasPrefix(name, "PodDisruptionBudget") {
			sel = at(o, "spec", "selector", "matchLabels")
		}
		if !matches(sel) {
			t.Errorf("%s selector does not match the Deployment's pods", name)
		}
		for _, p := range asList(at(o, "spec", "ports")) {
			if tp := str(at(p, "targetPort")); tp != "" && ports[tp] == "" {
				t.Errorf("%s targetPort %q is not a named container port", name, tp)
			}
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func yamlString(v any) string {
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

func TestCompose(t *testing.T) {
	c := docs(t, "../docker-compose.yml")[0]
	redis, gw := at(c, "services", "redis"), at(c, "services", "gateway")
	if redis == nil || gw == nil {
		t.Fatal("docker-compose.yml needs services redis and gateway")
	}
	var cmd []string
	for _, a := range asList(at(redis, "command")) {
		cmd = append(cmd, str(a))
	}
	joined := strings.Join(cmd, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync everysec", "--requirepass", "--hash-max-listpack-value 1024"} {
		if !strings.Contains(joined, want) {
			t.Errorf("redis command %q lacks %s", joined, want)
		}
	}
	vol := ""
	for _, v := range asList(at(redis, "volumes")) {
		if src, dst, _ := strings.Cut(str(v), ":"); dst == "/data" {
			vol = src
		}
	}
	if vol == "" {
		t.Error("redis has no volume at /data")
	} else if m, _ := at(c, "volumes").(map[string]any); m == nil || !hasKey(m, vol) {
		t.Errorf("redis volume %q is not a named volume", vol)
	}
	for name, svc := range map[string]any{"redis": redis, "gateway": gw} {
		if len(asList(at(svc, "healthcheck", "test"))) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
	if hc := asList(at(gw, "healthcheck", "test")); len(hc) < 3 || str(hc[1]) != "/usr/local/bin/gateway" || str(hc[2]) != "healthcheck" {
		t.Errorf("gateway healthcheck %v, want the binary's own healthcheck command", hc)
	}
	if str(at(gw, "env_file")) != ".env" {
		t.Error("gateway must read the admin credential from env_file .env")
	}
	if str(at(gw, "depends_on", "redis", "condition")) != "service_healthy" {
		t.Error("gateway must wait for a healthy redis")
	}
	env := at(gw, "environment").(map[string]any)
	url := str(env["SCIMGATE_REDIS_URL"])
	if !strings.HasPrefix(url, "redis://") || !strings.Contains(url, "@redis:6379") {
		t.Errorf("SCIMGATE_REDIS_URL %q must point at the redis service", url)
	}
	// The values must pass config validation (placeholders filled in).
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return strings.ReplaceAll(str(v), "${REDIS_PASSWORD}", "pw"), ok
	}
	if _, err := config.Load("", lookup); err != nil {
		t.Errorf("compose environment does not validate: %v", err)
	}
	example := string(read(t, "../.env.example"))
	if !strings.Contains(example, "SCIMGATE_ADMIN_TOKEN_HASH=") || !strings.Contains(example, "REDIS_PASSWORD=") {
		t.Error(".env.example must document SCIMGATE_ADMIN_TOKEN_HASH and REDIS_PASSWORD")
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// TestDockerfile checks what can be checked without a Docker engine.
func TestDockerfile(t *testing.T) {
	df := string(read(t, "../Dockerfile"))
	var froms, users []string
	var entry, health string
	for _, line := range strings.Split(df, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, line)
		case "USER":
			users = append(users, f[1])
		case "ENTRYPOINT":
			entry = line
		case "HEALTHCHECK":
			health = line
		}
	}
	if len(froms) < 2 {
		t.Errorf("want a multi-stage build, found %d FROM", len(froms))
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the binary must be built with CGO_ENABLED=0 (static)")
	}
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	if u := users[len(users)-1]; strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("final USER %s is root", u)
	}
	if !strings.Contains(entry, `"/usr/local/bin/gateway"`) || !strings.Contains(df, "COPY --from=build /out/gateway /usr/local/bin/gateway") {
		t.Error("ENTRYPOINT must run the binary copied from the build stage")
	}
	if !strings.Contains(df, `"/usr/local/bin/gateway", "healthcheck"`) {
		t.Errorf("HEALTHCHECK must call the gateway's healthcheck command (no shell in distroless): %q", health)
	}
	// The healthcheck subcommand the image relies on must exist.
	if main := string(read(t, "../cmd/gateway/main.go")); !strings.Contains(main, `"healthcheck": cmdHealthcheck`) {
		t.Error("cmd/gateway does not register the healthcheck subcommand")
	}
	ignore := string(read(t, "../.dockerignore"))
	for _, must := range []string{".git", ".env"} {
		if !slices.Contains(strings.Split(ignore, "\n"), must) {
			t.Errorf(".dockerignore lacks %s", must)
		}
	}
}
