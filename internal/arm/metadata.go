// Package arm is Tessera's Azure Resource Manager edge. This file serves the
// cloud metadata clients read to find the login endpoint and audiences.
package arm

import (
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/wire"
)

// ManagementAudience is the ARM token audience Tessera tells clients to use.
const ManagementAudience = "https://management.core.windows.net/"

// Metadata serves GET /metadata/endpoints.
type Metadata struct {
	base      *httpx.BaseURLs
	cloudName string
	// publicCloud answers as management.azure.com does: the public cloud's
	// own endpoints, which Tessera answers for under their own names.
	publicCloud bool
}

// NewMetadata returns the metadata handler.
func NewMetadata(base *httpx.BaseURLs, cloudName string) *Metadata {
	return &Metadata{base: base, cloudName: cloudName}
}

// NewPublicCloudMetadata returns the metadata handler of the public
// cloud's resource manager host: it describes AzureCloud with Microsoft's
// host names, as https://management.azure.com/metadata/endpoints does.
func NewPublicCloudMetadata() *Metadata {
	return &Metadata{cloudName: "AzureCloud", publicCloud: true}
}

// Register mounts the route.
func (m *Metadata) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /metadata/endpoints", m.endpoints)
}

// ServeHTTP serves the document on GET, and ARM's error otherwise.
func (m *Metadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		wire.WriteARMError(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
			"The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	m.endpoints(w, r)
}

type authentication struct {
	LoginEndpoint    string   `json:"loginEndpoint"`
	Audiences        []string `json:"audiences"`
	Tenant           string   `json:"tenant,omitempty"`
	IdentityProvider string   `json:"identityProvider,omitempty"`
}

type legacyEndpoints struct {
	GalleryEndpoint string         `json:"galleryEndpoint"`
	GraphEndpoint   string         `json:"graphEndpoint"`
	PortalEndpoint  string         `json:"portalEndpoint"`
	Authentication  authentication `json:"authentication"`
}

type cloudEndpoints struct {
	Name                     string            `json:"name"`
	ResourceManager          string            `json:"resourceManager"`
	Portal                   string            `json:"portal"`
	Gallery                  string            `json:"gallery"`
	GraphAudience            string            `json:"graphAudience"`
	Graph                    string            `json:"graph"`
	MicrosoftGraphResourceID string            `json:"microsoftGraphResourceId"`
	Authentication           authentication    `json:"authentication"`
	Suffixes                 map[string]string `json:"suffixes"`
}

// endpoints answers in the object form az cloud register reads
// (api-version 2015-01-01) or, from 2019-05-01 on, the list of clouds that
// ARM_CLOUD_METADATA_URL consumers read.
func (m *Metadata) endpoints(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		wire.WriteARMError(w, http.StatusBadRequest, "MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if m.publicCloud {
		m.publicEndpoints(w, v)
		return
	}
	base := m.base.For(r)
	auth := authentication{LoginEndpoint: base + "/adfs", Audiences: []string{ManagementAudience}}
	if v < "2019-05-01" {
		wire.WriteJSON(w, http.StatusOK, legacyEndpoints{
			GalleryEndpoint: base + "/gallery/", GraphEndpoint: base + "/graph/", PortalEndpoint: base + "/portal/",
			Authentication: auth,
		})
		return
	}
	auth.Tenant, auth.IdentityProvider = "adfs", "ADFS"
	host := strings.TrimPrefix(base, "https://")
	wire.WriteJSON(w, http.StatusOK, []cloudEndpoints{{
		Name: m.cloudName, ResourceManager: base + "/", Portal: base + "/portal/", Gallery: base + "/gallery/",
		GraphAudience: base + "/graph/", Graph: base + "/graph/", MicrosoftGraphResourceID: base + "/graph/",
		Authentication: auth,
		Suffixes: map[string]string{
			"storage": "core.windows.net", "keyVaultDns": "vault.azure.net", "acrLoginServer": "azurecr.io",
			"sqlServerHostname": "database.windows.net", "tessera": host,
		},
	}})
}

// publicEndpoints is the public cloud's document, in the same two forms.
func (m *Metadata) publicEndpoints(w http.ResponseWriter, v string) {
	auth := authentication{LoginEndpoint: "https://login.microsoftonline.com/",
		Audiences: []string{"https://management.core.windows.net/", "https://management.azure.com/"}}
	if v < "2019-05-01" {
		auth.LoginEndpoint = "https://login.windows.net/"
		wire.WriteJSON(w, http.StatusOK, legacyEndpoints{
			GalleryEndpoint: "https://gallery.azure.com/", GraphEndpoint: "https://graph.windows.net/",
			PortalEndpoint: "https://portal.azure.com/", Authentication: auth,
		})
		return
	}
	auth.Tenant, auth.IdentityProvider = "common", "AAD"
	wire.WriteJSON(w, http.StatusOK, []cloudEndpoints{{
		Name: m.cloudName, ResourceManager: "https://management.azure.com/", Portal: "https://portal.azure.com",
		Gallery: "https://gallery.azure.com/", GraphAudience: "https://graph.windows.net/", Graph: "https://graph.windows.net/",
		MicrosoftGraphResourceID: "https://graph.microsoft.com/", Authentication: auth,
		Suffixes: map[string]string{
			"storage": "core.windows.net", "keyVaultDns": "vault.azure.net", "acrLoginServer": "azurecr.io",
			"sqlServerHostname": "database.windows.net",
		},
	}})
}
