// SPDX-License-Identifier: Apache-2.0
// render: what `helm template` does for helm/glimpse, for tests on machines without Helm.
//
//	render [--name R] [--namespace NS] [-f values.yaml ...] [--set a.b=v ...] [--notes] CHART_DIR
//
// It loads CHART_DIR/Chart.yaml and values.yaml, deep-merges each -f file and then each --set
// over the values (maps merge key by key, anything else replaces, null deletes, as Helm does),
// parses every file under templates/ into one template set named like Helm's
// ("glimpse/templates/daemonset.yaml") with sprig's functions plus Helm's toYaml, include and
// required, executes each template whose name does not start with "_", and prints the
// documents as Helm does ("---\n# Source: glimpse/templates/x.yaml\n..."), in Helm's install
// order by kind, skipping empty ones. A document that is not YAML is an error naming its
// source. NOTES.txt is rendered only with --notes, and then alone.
//
// Only what the chart uses is supported: no subcharts, lookup, tpl or fromYaml; of .Files, Get
// and Glob (one "*" level, as filepath.Glob matches). One
// known difference: toYaml indents block sequences under their key ("key:\n  - a"), where
// Helm's YAML library writes "key:\n- a"; both parse to the same data.
//
// Build (Debian packages golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o render tests/helm/render.go
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// chartMeta is .Chart: Chart.yaml with Helm's capitalised field names.
type chartMeta struct {
	APIVersion  string            `yaml:"apiVersion"`
	Name        string            `yaml:"name"`
	Version     string            `yaml:"version"`
	AppVersion  string            `yaml:"appVersion"`
	Description string            `yaml:"description"`
	Type        string            `yaml:"type"`
	KubeVersion string            `yaml:"kubeVersion"`
	Home        string            `yaml:"home"`
	Keywords    []string          `yaml:"keywords"`
	Sources     []string          `yaml:"sources"`
	Annotations map[string]string `yaml:"annotations"`
}

type release struct {
	Name      string
	Namespace string
	Service   string
	Revision  int
	IsInstall bool
	IsUpgrade bool
}

type kubeVersion struct {
	Version, Major, Minor string
}

// apiVersions is .Capabilities.APIVersions: a minimal fixed set (the chart does not check it).
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// chartFiles is .Files: the chart's own files, by path relative to its directory.
type chartFiles struct{ dir string }

func (f chartFiles) Get(name string) string {
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		return ""
	}
	return string(data)
}

// Glob is path -> contents; ranging over it in a template visits the paths in sorted order.
func (f chartFiles) Glob(pattern string) map[string][]byte {
	out := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(f.dir, pattern))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			rel, _ := filepath.Rel(f.dir, p)
			out[rel] = data
		}
	}
	return out
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// installOrder is Helm's order of kinds on install (kinds not listed go last).
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
	"ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
	"CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
	"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
	"APIService",
}

func readYAML(path string, into interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// merge puts over onto base as Helm coalesces values: maps merge, null deletes, the rest
// replaces.
func merge(base, over map[string]interface{}) map[string]interface{} {
	if base == nil {
		base = map[string]interface{}{}
	}
	for k, v := range over {
		if v == nil {
			delete(base, k)
			continue
		}
		if vm, ok := v.(map[string]interface{}); ok {
			if bm, ok := base[k].(map[string]interface{}); ok {
				base[k] = merge(bm, vm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// setValue applies one --set a.b.c=v: v is a bool, an integer, null or else a string.
func setValue(values map[string]interface{}, expr string) error {
	eq := strings.IndexByte(expr, '=')
	if eq <= 0 {
		return fmt.Errorf("--set %q: expected key=value", expr)
	}
	var v interface{} = expr[eq+1:]
	switch s := expr[eq+1:]; {
	case s == "true" || s == "false":
		v = s == "true"
	case s == "null":
		v = nil
	default:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			v = n
		}
	}
	keys := strings.Split(expr[:eq], ".")
	over := map[string]interface{}{keys[len(keys)-1]: v}
	for i := len(keys) - 2; i >= 0; i-- {
		over = map[string]interface{}{keys[i]: over}
	}
	merge(values, over)
	return nil
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func funcMap(t **template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env") // Helm leaves these out so output cannot depend on the environment
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := (*t).ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	return f
}

type document struct {
	source, kind, name, text string
	order                    int
}

func kindOrder(kind string) int {
	for i, k := range installOrder {
		if k == kind {
			return i
		}
	}
	return len(installOrder)
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

func run() error {
	var files, sets stringList
	name := flag.String("name", "glimpse", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	flag.Var(&files, "f", "values file merged over the chart's values.yaml (repeatable)")
	flag.Var(&sets, "set", "key.path=value merged after the -f files (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		return errors.New("usage: render [--name R] [--namespace NS] [-f values.yaml] [--set k=v] [--notes] CHART_DIR")
	}
	dir := flag.Arg(0)

	var meta chartMeta
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &meta); err != nil {
		return err
	}
	if meta.Name == "" || meta.Version == "" {
		return fmt.Errorf("%s/Chart.yaml: name and version are required", dir)
	}
	values := map[string]interface{}{}
	if err := readYAML(filepath.Join(dir, "values.yaml"), &values); err != nil {
		return err
	}
	for _, f := range files {
		over := map[string]interface{}{}
		if err := readYAML(f, &over); err != nil {
			return err
		}
		values = merge(values, over)
	}
	for _, s := range sets {
		if err := setValue(values, s); err != nil {
			return err
		}
	}

	paths, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	var t *template.Template
	t = template.New(meta.Name).Funcs(funcMap(&t)).Option("missingkey=zero")
	var names []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		tname := meta.Name + "/templates/" + filepath.Base(p)
		if _, err := t.New(tname).Parse(string(data)); err != nil {
			return err
		}
		names = append(names, tname)
	}

	top := map[string]interface{}{
		"Values":  values,
		"Chart":   meta,
		"Release": release{Name: *name, Namespace: *namespace, Service: "Helm", Revision: 1, IsInstall: true},
		"Files":   chartFiles{dir: dir},
		"Capabilities": capabilities{
			KubeVersion: kubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"},
			APIVersions: apiVersions{"v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1"},
		},
	}
	render := func(tname string) (string, error) {
		scope := make(map[string]interface{}, len(top)+1)
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": tname, "BasePath": meta.Name + "/templates"}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tname, scope); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}

	if *notes {
		out, err := render(meta.Name + "/templates/NOTES.txt")
		if err != nil {
			return err
		}
		fmt.Println(strings.TrimSpace(out))
		return nil
	}

	var docs []document
	for _, tname := range names {
		base := filepath.Base(tname)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		out, err := render(tname)
		if err != nil {
			return err
		}
		for _, text := range docSep.Split(out, -1) {
			text = strings.TrimSpace(text)
			if text == "" {
				continue
			}
			var head struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(text), &head); err != nil {
				return fmt.Errorf("YAML parse error on %s: %v", tname, err)
			}
			docs = append(docs, document{source: tname, kind: head.Kind, name: head.Metadata.Name,
				text: text, order: kindOrder(head.Kind)})
		}
	}
	sort.SliceStable(docs, func(i, j int) bool {
		if docs[i].order != docs[j].order {
			return docs[i].order < docs[j].order
		}
		return docs[i].name < docs[j].name
	})
	for _, d := range docs {
		fmt.Printf("---\n# Source: %s\n%s\n", d.source, d.text)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "render: error:", err)
		os.Exit(1)
	}
}
