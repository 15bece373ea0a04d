package main

// The matrix's rows (clients) and columns (the guide's workflows, and what
// the clients then do), and which tests decide each cell. A rule names a
// top-level test of a package and, optionally, a regular expression its
// subtests' names must match; a cell is the combined result of every test
// its rules select. rules_test.go checks that each named test exists.

// Workflows, in column order.
var workflows = []string{
	"Interactive",
	"Service principal",
	"CLI session",
	"Managed identity",
	"Workspace resources",
	"Refused by RBAC",
	"On-behalf-of",
}

// client is a row.
type client struct {
	Name  string
	About string // what is exercised, for the legend
}

var clients = []client{
	{"Python azure-identity", "the unmodified azure-identity and msal Python packages"},
	{"Python azure-ai-ml (MLClient)", "Azure Machine Learning's Python SDK, MLClient.from_config and its operations"},
	{"Azure CLI (az)", "the unmodified az, with Tessera registered as a cloud"},
	{"Browser (headless Chromium)", "Tessera's sign-in pages in a real browser"},
	{"Go azidentity", "the Azure SDK for Go's azidentity credentials, used directly"},
	{"Node @azure/identity", "the unmodified @azure/identity and msal-node npm packages"},
	{"Go sdk/credential + sdk/workspace", "Tessera's Go SDK: credential.NewDefault and armmachinelearning clients; the examples/ programs"},
	{"tessera CLI", "Tessera's own client verbs (login, ad, role, ml, compute run)"},
	{"docs/quickstart.md", "the quickstart's commands, run from a clean copy (Python, Go and az steps)"},
}

const (
	compat      = "test/compat"
	integration = "test/integration"
)

// rule selects tests for a cell.
type rule struct {
	Client, Workflow string
	Package          string // package path suffix
	Test             string // top-level test name
	Sub              string // regexp on the subtest path after "Test/", "" for the whole test
}

var rules = []rule{
	// Python azure-identity
	{"Python azure-identity", "Interactive", compat, "TestPythonUserCredentials", "^(InteractiveBrowserCredential|DeviceCodeCredential)"},
	{"Python azure-identity", "Service principal", compat, "TestPython", ""},
	{"Python azure-identity", "CLI session", compat, "TestPythonSharedTokenCache", ""},
	{"Python azure-identity", "Managed identity", compat, "TestManagedIdentityPython", ""},
	{"Python azure-identity", "Refused by RBAC", compat, "TestManagedIdentityPython", "refused"},
	// The same code run under the public cloud's names (docs/verbatim.md).
	{"Python azure-identity", "Service principal", compat, "TestPublicCloudNames", "^Python"},
	{"Python azure-identity", "Interactive", compat, "TestPublicCloudNames", "^the_guide"},
	// A middle-tier API calling on as its caller: msal and OnBehalfOfCredential.
	{"Python azure-identity", "On-behalf-of", compat, "TestPythonOnBehalfOf", ""},

	// azure-ai-ml
	{"Python azure-ai-ml (MLClient)", "Service principal", compat, "TestMLClient", "DefaultAzureCredential$"},
	{"Python azure-ai-ml (MLClient)", "Service principal", compat, "TestPublicCloudNames", "^Python"},
	{"Python azure-ai-ml (MLClient)", "Workspace resources", compat, "TestMLClient", "^Contributor"},
	{"Python azure-ai-ml (MLClient)", "Refused by RBAC", compat, "TestMLClient", "refused"},
	{"Python azure-ai-ml (MLClient)", "Managed identity", compat, "TestManagedIdentityPython", "^(DefaultAzureCredential|ManagedIdentityCredential)"},

	// az
	{"Azure CLI (az)", "Interactive", compat, "TestAzCLIInteractiveLogin", ""},
	{"Azure CLI (az)", "Service principal", compat, "TestAzCLI", "^login_as"},
	{"Azure CLI (az)", "CLI session", compat, "TestAzCLI", "^account_get-access-token"},
	{"Azure CLI (az)", "CLI session", compat, "TestAzCLIUserLogin", ""},
	{"Azure CLI (az)", "CLI session", integration, "TestExampleCLISession", "^az_login"},
	{"Azure CLI (az)", "Managed identity", compat, "TestManagedIdentityAzLogin", ""},
	{"Azure CLI (az)", "Workspace resources", compat, "TestAzCLI", "^(group_create|allowed|ad_sp_create-for-rbac)"},
	{"Azure CLI (az)", "Refused by RBAC", compat, "TestAzCLI", "^refused"},
	{"Azure CLI (az)", "Service principal", compat, "TestPublicCloudNames", "^az_login_--service-principal"},
	{"Azure CLI (az)", "Interactive", compat, "TestPublicCloudNames", "^az_login_--use-device-code"},
	{"Azure CLI (az)", "Refused by RBAC", compat, "TestPublicCloudNames", "^az_login_--use-device-code"},

	// Browser
	{"Browser (headless Chromium)", "Interactive", compat, "TestBrowserLoginPages", ""},
	{"Browser (headless Chromium)", "Interactive", compat, "TestPublicCloudNames", "^the_guide"},

	// Go azidentity
	{"Go azidentity", "Interactive", integration, "TestGoInteractiveBrowserCredential", ""},
	{"Go azidentity", "Interactive", integration, "TestGoDeviceCodeCredential", ""},
	{"Go azidentity", "Service principal", integration, "TestClientSecretCredential", ""},
	{"Go azidentity", "Service principal", integration, "TestClientCertificateCredential", ""},
	{"Go azidentity", "Service principal", integration, "TestFederatedAssertion", ""},
	{"Go azidentity", "Service principal", compat, "TestPublicCloudNames", "^Go"},
	{"Go azidentity", "Managed identity", integration, "TestManagedIdentityCredentials", ""},
	{"Go azidentity", "Managed identity", integration, "TestWorkloadIdentityFederation", ""},
	{"Go azidentity", "On-behalf-of", integration, "TestExampleScoringAPI", ""},

	// Node @azure/identity
	{"Node @azure/identity", "Service principal", compat, "TestNodeIdentity", ""},
	{"Node @azure/identity", "Service principal", compat, "TestPublicCloudNames", "^Node"},
	{"Node @azure/identity", "Managed identity", compat, "TestManagedIdentityNode", ""},
	{"Node @azure/identity", "Interactive", compat, "TestMSALNodeOnBehalfOf", ""},
	{"Node @azure/identity", "On-behalf-of", compat, "TestMSALNodeOnBehalfOf", ""},

	// Go SDK
	{"Go sdk/credential + sdk/workspace", "Interactive", integration, "TestExampleInteractive", ""},
	{"Go sdk/credential + sdk/workspace", "Interactive", integration, "TestChainBrowserFallback", ""},
	{"Go sdk/credential + sdk/workspace", "Service principal", integration, "TestExampleServicePrincipal", ""},
	{"Go sdk/credential + sdk/workspace", "Service principal", integration, "TestChainEnvironmentUsernamePassword", ""},
	{"Go sdk/credential + sdk/workspace", "Service principal", integration, "TestChainFailedStops", ""},
	{"Go sdk/credential + sdk/workspace", "CLI session", integration, "TestExampleCLISession", ""},
	{"Go sdk/credential + sdk/workspace", "CLI session", integration, "TestChainStaleCache", ""},
	{"Go sdk/credential + sdk/workspace", "Managed identity", integration, "TestExampleManagedIdentity", ""},
	{"Go sdk/credential + sdk/workspace", "Workspace resources", integration, "TestWorkspaceSDK", ""},
	{"Go sdk/credential + sdk/workspace", "Refused by RBAC", integration, "TestWorkspaceSDK", "refused"},
	{"Go sdk/credential + sdk/workspace", "Refused by RBAC", integration, "TestExampleServicePrincipal", ""},
	{"Go sdk/credential + sdk/workspace", "Refused by RBAC", integration, "TestExampleScoringAPI", ""},
	{"Go sdk/credential + sdk/workspace", "On-behalf-of", integration, "TestExampleScoringAPI", ""},

	// tessera CLI
	{"tessera CLI", "Interactive", integration, "TestLoginVerbs", "^(device_code|browser)"},
	{"tessera CLI", "Service principal", integration, "TestRoleVerbs", ""},
	{"tessera CLI", "Service principal", integration, "TestCLIAd", ""},
	{"tessera CLI", "CLI session", integration, "TestLoginVerbs", "^(account_verbs|a_Go_program_reads_the_cache)"},
	{"tessera CLI", "Managed identity", integration, "TestNodeVerbs", ""},
	{"tessera CLI", "Workspace resources", integration, "TestMLVerbs", ""},
	{"tessera CLI", "Refused by RBAC", integration, "TestMLVerbs", ""},
	{"tessera CLI", "Refused by RBAC", integration, "TestRoleVerbs", ""},

	// The quickstart
	{"docs/quickstart.md", "Interactive", integration, "TestQuickstart", ""},
	{"docs/quickstart.md", "Service principal", integration, "TestQuickstart", ""},
	{"docs/quickstart.md", "Workspace resources", integration, "TestQuickstart", ""},
	{"docs/quickstart.md", "Refused by RBAC", integration, "TestQuickstart", ""},
}
