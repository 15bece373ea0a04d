package resources

import "strings"

// ProviderML is the Machine Learning resource provider namespace.
const ProviderML = "Microsoft.MachineLearningServices"

// ProviderManagedIdentity is the namespace of user-assigned identities.
const ProviderManagedIdentity = "Microsoft.ManagedIdentity"

// typeSpec describes a resource type the resource manager serves.
type typeSpec struct {
	// Type is the full type as ARM spells it.
	Type string
	// Tracked resources have a location and tags.
	Tracked bool
	// Identity: the resource may carry a system-assigned managed identity.
	Identity bool
	// Async: PUT and DELETE are long-running operations the SDK polls.
	Async bool
	// NoCreated: the provider's API answers a PUT that creates with 200, as
	// for an update. Azure's Machine Learning API defines no 201 for
	// workspaces and workspace connections, and the SDKs generated from it
	// (armmachinelearning for Go, azure-mgmt-machinelearningservices)
	// reject one as an error.
	NoCreated bool
	// Versioned containers (models, environments, ...) have a "versions" child.
	complete func(c *completion)
	// prepare runs before complete for types whose document needs checks or
	// writes that can fail (a user-assigned identity's service principal).
	prepare func(c *completion) error
}

// registered lists the types of Microsoft.MachineLearningServices that
// Tessera stores, keyed by lower-case type. Only types a provider registers
// exist; anything else is a 400 NoRegisteredProviderFound or InvalidResourceType.
var registered = map[string]typeSpec{}

func register(spec typeSpec) { registered[strings.ToLower(spec.Type)] = spec }

func init() {
	ml := func(t string) string { return ProviderML + "/" + t }
	register(typeSpec{Type: ml("workspaces"), Tracked: true, Identity: true, NoCreated: true, complete: completeWorkspace})
	register(typeSpec{Type: ml("workspaces/computes"), Tracked: true, Identity: true, Async: true, complete: completeCompute})
	register(typeSpec{Type: ml("workspaces/jobs"), complete: completeJob})
	register(typeSpec{Type: ml("workspaces/datastores"), complete: completeDatastore})
	register(typeSpec{Type: ml("workspaces/connections"), NoCreated: true, complete: completeConnection})
	register(typeSpec{Type: ml("workspaces/onlineEndpoints"), Tracked: true, Identity: true, Async: true, complete: completeEndpoint})
	register(typeSpec{Type: ml("workspaces/onlineEndpoints/deployments"), Tracked: true, Async: true, complete: completeDeployment})
	register(typeSpec{Type: TypeUserAssignedIdentity, Tracked: true, prepare: prepareUserAssignedIdentity})
	register(typeSpec{Type: TypeFederatedIdentityCredential, prepare: prepareFederatedCredential})
	for _, c := range []string{"models", "environments", "codes", "components", "data"} {
		register(typeSpec{Type: ml("workspaces/" + c)})
		register(typeSpec{Type: ml("workspaces/" + c + "/versions"), complete: completeVersion})
	}
}

// lookupType finds the spec of a full type, case-insensitively.
func lookupType(fullType string) (typeSpec, bool) {
	s, ok := registered[strings.ToLower(fullType)]
	return s, ok
}

// ResourceTypes lists the registered resource types of a provider relative
// to the provider (e.g. "workspaces/computes"), for the provider document.
func ResourceTypes(provider string) []string {
	var out []string
	prefix := strings.ToLower(provider) + "/"
	for k, v := range registered {
		if strings.HasPrefix(k, prefix) {
			out = append(out, v.Type[len(prefix):])
		}
	}
	return out
}

// APIVersions the ML provider advertises (the SDKs pick from these).
var APIVersions = []string{"2024-04-01", "2023-10-01", "2023-04-01", "2022-10-01", "2022-05-01", "2022-10-01-preview", "2021-07-01"}
