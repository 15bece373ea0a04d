package directory

import "strings"

// FirstPartyResource is a Microsoft resource every tenant serves.
type FirstPartyResource struct {
	AppID       string
	DisplayName string
	// Names are the identifier URIs clients ask for (matched without a trailing slash).
	Names []string
}

// Well-known application ids.
const (
	AppIDResourceManager = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
	AppIDGraph           = "00000003-0000-0000-c000-000000000000"
	AppIDAzureML         = "18a66f5f-dbdf-4c17-9dd7-1634712a9cbe"
	AppIDAzureCLI        = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	AppIDAzurePowerShell = "1950a258-227b-4e31-a9cf-717495945fc2"
	AppIDVisualStudio    = "872cd9fa-d31f-45e0-9eab-6e460a02d1f1"
	AppIDVSCode          = "aebc6443-996d-45c2-90f0-388ff96faa56"
	// AppIDTesseraPortal is Tessera's own web console, a single-page
	// application served at PortalPath on every origin Tessera answers on.
	AppIDTesseraPortal = "a619c7ab-b2f7-4bb9-a6b8-6110e70e1a8a"
)

// PortalPath is where the console is served; its redirect URI is exactly
// <origin>PortalPath for each origin the server answers on.
const PortalPath = "/portal/"

// FirstPartyResources returns the resources registered in every tenant;
// graphURL is Tessera's own Graph resource id ({url}/graph/).
func FirstPartyResources(graphURL string) []FirstPartyResource {
	return []FirstPartyResource{
		{AppID: AppIDResourceManager, DisplayName: "Windows Azure Service Management API",
			Names: []string{"https://management.azure.com/", "https://management.core.windows.net/"}},
		{AppID: AppIDGraph, DisplayName: "Microsoft Graph",
			Names: []string{"https://graph.microsoft.com/", graphURL, "https://graph.windows.net/"}},
		{AppID: AppIDAzureML, DisplayName: "Azure Machine Learning Services",
			Names: []string{"https://ml.azure.com/"}},
	}
}

// FirstPartyClient is a built-in public client every tenant accepts.
type FirstPartyClient struct {
	AppID       string
	DisplayName string
	// FOCI: a member of Microsoft's "family of client ids", whose members
	// redeem each other's refresh tokens.
	FOCI bool
	// SPA: a single-page application; its redirect URIs are SPA redirects
	// (the token service is told them), not the native loopback ones.
	SPA bool
}

// FirstPartyClients are the public clients the SDKs and CLIs sign in with,
// and Tessera's own portal.
var FirstPartyClients = []FirstPartyClient{
	{AppID: AppIDAzureCLI, DisplayName: "Microsoft Azure CLI", FOCI: true},
	{AppID: AppIDAzurePowerShell, DisplayName: "Microsoft Azure PowerShell", FOCI: true},
	{AppID: AppIDVisualStudio, DisplayName: "Visual Studio", FOCI: true},
	{AppID: AppIDVSCode, DisplayName: "Visual Studio Code", FOCI: true},
	{AppID: AppIDTesseraPortal, DisplayName: "Tessera Portal", SPA: true},
}

// FirstPartyClientByID finds a built-in client by app id (any case).
func FirstPartyClientByID(appID string) (FirstPartyClient, bool) {
	for _, c := range FirstPartyClients {
		if strings.EqualFold(c.AppID, appID) {
			return c, true
		}
	}
	return FirstPartyClient{}, false
}
