package app

import (
	"net"
	"strings"
)

// surface is the part of Tessera a host name reaches.
type surface int

const (
	// surfaceAll: Tessera's own names reach every surface, split by path
	// (root.ServeHTTP).
	surfaceAll surface = iota
	// surfaceLogin: the token service, its sign-in and device-code pages,
	// and the rest of the ServeMux; no resource manager, no Graph.
	surfaceLogin
	// surfaceARM: the resource manager at the root path, and the public
	// cloud's metadata document at /metadata/endpoints.
	surfaceARM
	// surfaceGraph: Microsoft Graph at /v1.0/... (Tessera's /graph/v1.0/...).
	surfaceGraph
)

// publicCloudHosts is the route table of the public cloud's host names:
// with --public-cloud-names (config publicCloudNames) Tessera answers for
// each name with one surface, as Azure splits its services by host.
var publicCloudHosts = []struct {
	name    string
	surface surface
}{
	{"login.microsoftonline.com", surfaceLogin},
	{"login.windows.net", surfaceLogin},
	{"sts.windows.net", surfaceLogin},
	{"management.azure.com", surfaceARM},
	{"management.core.windows.net", surfaceARM},
	{"graph.microsoft.com", surfaceGraph},
}

// PublicCloudHosts are the public cloud's host names Tessera answers for
// with --public-cloud-names: the names its certificate carries and the
// hosts-file lines of `tessera hosts` send to it.
func PublicCloudHosts() []string {
	out := make([]string, len(publicCloudHosts))
	for i, h := range publicCloudHosts {
		out[i] = h.name
	}
	return out
}

// hostSurfaces maps each public cloud host name to its surface; nil (every
// name reaches every surface) unless the mode is on.
func hostSurfaces(on bool) map[string]surface {
	if !on {
		return nil
	}
	m := make(map[string]surface, len(publicCloudHosts))
	for _, h := range publicCloudHosts {
		m[h.name] = h.surface
	}
	return m
}

// requestHost is the request's host name, lower case, without its port.
func requestHost(hostport string) string {
	h := strings.ToLower(hostport)
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	return strings.TrimSuffix(h, ".")
}
