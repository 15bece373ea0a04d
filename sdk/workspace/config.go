package workspace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is a workspace's config.json, the file Azure ML's portal offers
// for download and MLClient.from_config reads: the same field names.
type Config struct {
	SubscriptionID string `json:"subscription_id"`
	ResourceGroup  string `json:"resource_group"`
	WorkspaceName  string `json:"workspace_name"`
	// Path is the file the configuration was read from (not written).
	Path string `json:"-"`
}

// ID is the workspace's ARM id.
func (c Config) ID() string {
	return "/subscriptions/" + c.SubscriptionID + "/resourceGroups/" + c.ResourceGroup +
		"/providers/Microsoft.MachineLearningServices/workspaces/" + c.WorkspaceName
}

// Write saves the configuration as JSON at path (a file, or a directory to
// hold config.json), creating the directory if needed.
func (c Config) Write(path string) (string, error) {
	if fi, err := os.Stat(path); (err == nil && fi.IsDir()) || strings.HasSuffix(path, string(os.PathSeparator)) {
		path = filepath.Join(path, DefaultFileName)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// DefaultFileName is the configuration file looked for in directories.
const DefaultFileName = "config.json"

// maxLevels is how many parents the search climbs, as in azure-ai-ml.
const maxLevels = 20

// FindConfig locates and reads a workspace configuration with the rules of
// azure-ai-ml's MLClient.from_config:
//
//   - path names a file: that file.
//   - otherwise path is the directory to start from (the working directory
//     when empty). For each sub-directory in order .azureml, aml_config and
//     none, and each file name in order config.json, project.json (or just
//     fileName when given), the search looks in the start directory and
//     then in each parent, up to the root or 20 levels; the first file
//     found wins.
//
// When nothing is found, the error lists every place it looked.
func FindConfig(path, fileName string) (Config, error) {
	if path == "" {
		path = "."
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return LoadConfig(path)
	}
	start, err := filepath.Abs(path)
	if err != nil {
		return Config{}, err
	}
	files := []string{DefaultFileName, "project.json"}
	if fileName != "" {
		files = []string{fileName}
	}
	var looked []string
	for _, dir := range []string{".azureml", "aml_config", ""} {
		for _, file := range files {
			rel := filepath.Join(dir, file)
			cur := start
			for level := 0; ; level++ {
				candidate := filepath.Join(cur, rel)
				looked = append(looked, candidate)
				if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() {
					return LoadConfig(candidate)
				}
				parent := filepath.Dir(cur)
				if parent == cur || level == maxLevels {
					break
				}
				cur = parent
			}
		}
	}
	return Config{}, &NotFoundError{Start: start, Looked: looked}
}

// NotFoundError says where FindConfig looked.
type NotFoundError struct {
	Start  string
	Looked []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no workspace configuration (config.json) in %s or its parent directories; looked at:\n  %s\n"+
		"give the file's path, or write one with `tessera ml workspace show --write-config`",
		e.Start, strings.Join(e.Looked, "\n  "))
}

// LoadConfig reads one configuration file: subscription_id, resource_group
// and workspace_name, or a "Scope" holding the workspace's ARM id.
func LoadConfig(file string) (Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Config{}, err
	}
	var raw struct {
		Config
		Scope string `json:"Scope"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Config{}, fmt.Errorf("workspace configuration %s: %w", file, err)
	}
	c := raw.Config
	c.Path = file
	if raw.Scope != "" {
		// /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{w}
		p := strings.Split(strings.Trim(raw.Scope, "/"), "/")
		if len(p) != 8 {
			return Config{}, fmt.Errorf("workspace configuration %s: Scope %q is not a workspace id", file, raw.Scope)
		}
		c.SubscriptionID, c.ResourceGroup, c.WorkspaceName = p[1], p[3], p[7]
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"subscription_id", c.SubscriptionID}, {"resource_group", c.ResourceGroup}, {"workspace_name", c.WorkspaceName}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("workspace configuration %s lacks %s", file, strings.Join(missing, ", "))
	}
	return c, nil
}
