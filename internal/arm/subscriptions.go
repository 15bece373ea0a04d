package arm

import (
	"net/http"
	"sort"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/wire"
)

// Locations Tessera accepts for resources. Azure's region names, so that
// templates written for Azure work unchanged.
var locations = []string{"eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northeurope", "westeurope",
	"uksouth", "francecentral", "germanywestcentral", "swedencentral", "switzerlandnorth", "japaneast", "australiaeast",
	"southeastasia", "canadacentral", "brazilsouth", "local"}

func subscriptionJSON(s domain.Subscription) map[string]any {
	return map[string]any{
		"id": "/subscriptions/" + s.ID, "subscriptionId": s.ID, "tenantId": s.TenantID, "displayName": s.DisplayName,
		"state": s.State, "authorizationSource": "RoleBased", "managedByTenants": []any{},
		"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
	}
}

// listTenants answers /tenants with the caller's tenant.
func (h *Handler) listTenants(w http.ResponseWriter, r *http.Request, c caller, _ params) {
	t, err := h.res.Tenant(r.Context(), c.TenantID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeList(w, r, []any{map[string]any{
		"id": "/tenants/" + t.ID, "tenantId": t.ID, "displayName": t.DisplayName, "tenantCategory": "Home",
		"defaultDomain": t.DefaultDomain(), "domains": t.Domains, "countryCode": "US", "tenantType": "AAD",
	}})
}

// visible: a principal sees a subscription in which, or above which, it
// holds any role assignment (a service principal scoped to one workspace
// still sees its subscription, or `az login` would find none).
func (h *Handler) visible(c caller, subID string) bool {
	return h.rbac.HasAssignmentWithin(c.ObjectID, "/subscriptions/"+subID)
}

func (h *Handler) listSubscriptions(w http.ResponseWriter, r *http.Request, c caller, _ params) {
	subs, err := h.res.Subscriptions(r.Context(), c.TenantID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].DisplayName < subs[j].DisplayName })
	items := []any{}
	for _, s := range subs {
		if h.visible(c, s.ID) {
			items = append(items, subscriptionJSON(s))
		}
	}
	h.writeList(w, r, items)
}

// requireVisible loads a subscription the caller can see, or answers 404
// (Azure does not reveal subscriptions a caller has no access to).
func (h *Handler) requireVisible(w http.ResponseWriter, r *http.Request, c caller, subID string) (domain.Subscription, bool) {
	s, err := h.res.Subscription(r.Context(), c.TenantID, subID)
	if err == nil && !h.visible(c, s.ID) {
		err = fault.Errorf(fault.NotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", subID)
	}
	if err != nil {
		h.fail(w, r, err)
		return s, false
	}
	return s, true
}

func (h *Handler) getSubscription(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID := p.get("subscriptionId")
	if s, ok := h.requireVisible(w, r, c, subID); ok {
		wire.WriteJSON(w, http.StatusOK, subscriptionJSON(s))
	}
}

func (h *Handler) listLocations(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID := p.get("subscriptionId")
	s, ok := h.requireVisible(w, r, c, subID)
	if !ok {
		return
	}
	items := make([]any, 0, len(locations))
	for _, l := range locations {
		items = append(items, map[string]any{"id": "/subscriptions/" + s.ID + "/locations/" + l, "name": l,
			"displayName": l, "regionalDisplayName": l, "metadata": map[string]any{"regionType": "Physical"}})
	}
	h.writeList(w, r, items)
}

var providerNamespaces = []string{resources.ProviderML, "Microsoft.Authorization", "Microsoft.Resources", "Microsoft.ManagedIdentity"}

func (h *Handler) providerJSON(subID, ns string) (map[string]any, bool) {
	for _, p := range providerNamespaces {
		if strings.EqualFold(p, ns) {
			types := []any{}
			names := resources.ResourceTypes(p)
			sort.Strings(names)
			for _, t := range names {
				types = append(types, map[string]any{"resourceType": t, "locations": locations, "apiVersions": resources.APIVersions})
			}
			if strings.EqualFold(p, "Microsoft.Authorization") {
				for _, t := range []string{"roleAssignments", "roleDefinitions", "permissions"} {
					types = append(types, map[string]any{"resourceType": t, "locations": []string{}, "apiVersions": []string{"2022-04-01", "2020-04-01-preview", "2018-01-01-preview", "2015-07-01"}})
				}
			}
			return map[string]any{"id": "/subscriptions/" + subID + "/providers/" + p, "namespace": p,
				"registrationState": "Registered", "registrationPolicy": "RegistrationRequired", "resourceTypes": types}, true
		}
	}
	return nil, false
}

func (h *Handler) listProviders(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID := p.get("subscriptionId")
	s, ok := h.requireVisible(w, r, c, subID)
	if !ok {
		return
	}
	items := []any{}
	for _, p := range providerNamespaces {
		doc, _ := h.providerJSON(s.ID, p)
		items = append(items, doc)
	}
	h.writeList(w, r, items)
}

func (h *Handler) getProvider(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID, ns := p.get("subscriptionId"), p.get("namespace")
	s, ok := h.requireVisible(w, r, c, subID)
	if !ok {
		return
	}
	doc, found := h.providerJSON(s.ID, ns)
	if !found {
		wire.WriteARMError(w, http.StatusNotFound, "InvalidResourceNamespace", "The resource namespace '"+ns+"' is invalid.")
		return
	}
	wire.WriteJSON(w, http.StatusOK, doc)
}

func (h *Handler) registerProvider(w http.ResponseWriter, r *http.Request, c caller, p params) {
	subID, ns := p.get("subscriptionId"), p.get("namespace")
	s, ok := h.requireVisible(w, r, c, subID)
	if !ok {
		return
	}
	doc, found := h.providerJSON(s.ID, ns)
	if !found {
		wire.WriteARMError(w, http.StatusNotFound, "InvalidResourceNamespace", "The resource namespace '"+ns+"' is invalid.")
		return
	}
	if !h.authorize(w, r, c, ns+"/register/action", "/subscriptions/"+s.ID) {
		return
	}
	wire.WriteJSON(w, http.StatusOK, doc)
}
