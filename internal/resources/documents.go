package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Document is a resource's JSON document as ARM returns it.
type Document = map[string]any

// Result is the outcome of a create-or-update.
type Result struct {
	Doc     Document
	ETag    string
	Created bool
	// AnswerCreated: the creation is acknowledged as one (ARM's 201); false
	// for updates and for types whose API answers every PUT alike.
	AnswerCreated bool
	// Operation is set for long-running types: the id of the status record
	// the SDK polls (see Operation).
	Operation *Operation
}

// Operation is a long-running operation's status record.
type Operation struct {
	ID   string // resource id of the status record
	Name string
}

func docOf(r domain.Resource) (Document, error) {
	var d Document
	if err := json.Unmarshal(r.Body, &d); err != nil {
		return nil, fmt.Errorf("decode stored document %s: %w", r.ID, err)
	}
	return d, nil
}

// Get returns the resource with id (any casing), or a 404 in ARM's words.
func (s *Service) Get(ctx context.Context, tenantID string, id domain.ResourceID, rawID string) (Document, domain.Resource, error) {
	r, err := s.GetStored(ctx, tenantID, id, rawID)
	if err != nil {
		return nil, r, err
	}
	d, err := docOf(r)
	return d, r, err
}

// GetStored is Get without decoding the document, for callers that send the
// stored JSON as it is.
func (s *Service) GetStored(ctx context.Context, tenantID string, id domain.ResourceID, rawID string) (domain.Resource, error) {
	if _, ok := lookupType(id.OperationType()); !ok {
		return domain.Resource{}, invalidType(id)
	}
	if _, err := s.Subscription(ctx, tenantID, id.SubscriptionID); err != nil {
		return domain.Resource{}, err
	}
	r, err := s.store.GetResource(ctx, rawID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.TenantID != tenantID) {
		return domain.Resource{}, s.notFound(ctx, id)
	}
	if err != nil {
		return domain.Resource{}, fmt.Errorf("load resource %s: %w", rawID, err)
	}
	return r, nil
}

// notFound words a 404 the way ARM does: a missing resource group first.
func (s *Service) notFound(ctx context.Context, id domain.ResourceID) error {
	if id.ResourceGroup != "" && len(id.Types) > 0 && !strings.EqualFold(id.Provider, "Microsoft.Resources") {
		if _, err := s.store.GetResource(ctx, resourceGroupID(id.SubscriptionID, id.ResourceGroup)); errors.Is(err, store.ErrNotFound) {
			return fault.Errorf(fault.NotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", id.ResourceGroup)
		}
	}
	if strings.EqualFold(id.OperationType(), "Microsoft.Resources/subscriptions/resourceGroups") {
		return fault.Errorf(fault.NotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", id.ResourceGroup)
	}
	return fault.Errorf(fault.NotFound, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		id.OperationType(), strings.Join(id.Names, "/"), id.ResourceGroup)
}

// List returns the resources of a collection path (a type without a name
// under a parent), ordered by name.
func (s *Service) List(ctx context.Context, tenantID string, coll domain.ResourceID) ([]Document, error) {
	if _, err := s.Subscription(ctx, tenantID, coll.SubscriptionID); err != nil {
		return nil, err
	}
	spec, ok := lookupType(coll.OperationType())
	if !ok {
		return nil, invalidType(coll)
	}
	parent := parentID(coll)
	if parent != "" {
		if _, err := s.store.GetResource(ctx, parent); errors.Is(err, store.ErrNotFound) {
			p, _ := domain.ParseResourceID(parent)
			return nil, s.notFound(ctx, p)
		}
	}
	rs, err := s.store.ListResources(ctx, coll.SubscriptionID, parent, spec.Type)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", spec.Type, err)
	}
	return docsOf(rs, tenantID)
}

func docsOf(rs []domain.Resource, tenantID string) ([]Document, error) {
	sort.Slice(rs, func(i, j int) bool { return strings.ToLower(rs[i].Name) < strings.ToLower(rs[j].Name) })
	out := make([]Document, 0, len(rs))
	for _, r := range rs {
		if r.TenantID != tenantID {
			continue
		}
		d, err := docOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func invalidType(id domain.ResourceID) error {
	return fault.Errorf(fault.Invalid, "InvalidResourceType", "The resource type '%s' could not be found in the namespace '%s'.",
		strings.Join(id.Types, "/"), id.Provider)
}

// parentID is the id of the resource a collection or resource sits under:
// the parent resource for a child type, else "" (top level in its group).
func parentID(id domain.ResourceID) string {
	if len(id.Types) <= 1 {
		return ""
	}
	var b strings.Builder
	b.WriteString(resourceGroupID(id.SubscriptionID, id.ResourceGroup))
	b.WriteString("/providers/" + id.Provider)
	for i := 0; i < len(id.Types)-1; i++ {
		b.WriteString("/" + id.Types[i] + "/" + id.Names[i])
	}
	return strings.ToLower(b.String())
}

func resourceGroupID(sub, rg string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg
}

// canonicalID spells a resource id with the registered type casing and the
// names as given.
func canonicalID(spec typeSpec, id domain.ResourceID, rgName string) string {
	types := strings.Split(spec.Type, "/")[1:]
	var b strings.Builder
	b.WriteString(resourceGroupID(id.SubscriptionID, rgName))
	b.WriteString("/providers/" + strings.Split(spec.Type, "/")[0])
	for i, t := range types {
		b.WriteString("/" + t + "/" + id.Names[i])
	}
	return b.String()
}

// Put creates or replaces a resource from the request body.
func (s *Service) Put(ctx context.Context, a Actor, id domain.ResourceID, body Document, ifMatch string) (Result, error) {
	spec, ok := lookupType(id.OperationType())
	if !ok {
		return Result{}, invalidType(id)
	}
	if len(id.Names) != len(id.Types) || id.Name() == "" {
		return Result{}, fault.Errorf(fault.Invalid, "InvalidResourceName", "The resource name is missing.")
	}
	if err := validName(id.Name()); err != nil {
		return Result{}, err
	}
	sub, err := s.Subscription(ctx, a.TenantID, id.SubscriptionID)
	if err != nil {
		return Result{}, err
	}
	rg, err := s.store.GetResource(ctx, resourceGroupID(id.SubscriptionID, id.ResourceGroup))
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, fault.Errorf(fault.NotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", id.ResourceGroup)
	}
	if err != nil {
		return Result{}, fmt.Errorf("load resource group: %w", err)
	}
	var parentDoc Document
	if p := parentID(id); p != "" {
		pr, err := s.store.GetResource(ctx, p)
		if errors.Is(err, store.ErrNotFound) {
			return Result{}, fault.Errorf(fault.NotFound, "ParentResourceNotFound",
				"Can not perform requested operation on nested resource. Parent resource '%s' not found.", strings.Join(id.Names[:len(id.Names)-1], "/"))
		}
		if err != nil {
			return Result{}, fmt.Errorf("load parent: %w", err)
		}
		if parentDoc, err = docOf(pr); err != nil {
			return Result{}, err
		}
	}
	var res Result
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		var prev Document
		fullID := canonicalID(spec, id, rg.Name)
		old, err := tx.GetResource(ctx, fullID)
		switch {
		case err == nil:
			fullID = old.ID
			if prev, err = docOf(old); err != nil {
				return err
			}
		case errors.Is(err, store.ErrNotFound):
		default:
			return err
		}
		c := &completion{s: s, ctx: ctx, tx: tx, id: id, fullID: fullID, spec: spec, body: body, prev: prev,
			parent: parentDoc, actor: a, sub: sub}
		doc, err := c.build()
		if err != nil {
			return err
		}
		etag := newETag()
		raw, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		now := s.now().UTC()
		r := domain.Resource{ID: fullID, TenantID: a.TenantID, SubscriptionID: id.SubscriptionID, ResourceGroup: rg.Name,
			Type: spec.Type, ParentID: parentID(id), Name: id.Name(), Location: str(doc["location"]), ETag: etag, Body: raw,
			CreatedBy: a.ObjectID, CreatedAt: now, UpdatedAt: now}
		if prev != nil {
			r.CreatedAt, r.CreatedBy = old.CreatedAt, old.CreatedBy
		}
		if err := tx.PutResource(ctx, r, ifMatch); err != nil {
			return err
		}
		for _, child := range c.children {
			if err := tx.PutResource(ctx, child, ""); err != nil {
				return err
			}
		}
		res = Result{Doc: doc, ETag: etag, Created: prev == nil, AnswerCreated: prev == nil && !spec.NoCreated}
		if spec.Async {
			op, err := s.newOperation(ctx, tx, a, id.SubscriptionID, str(doc["location"]))
			if err != nil {
				return err
			}
			res.Operation = op
		}
		return nil
	})
	if errors.Is(err, store.ErrPrecondition) {
		return Result{}, fault.Errorf(fault.Precondition, "PreconditionFailed", "The specified precondition (If-Match) does not match the resource's current ETag.")
	}
	return res, err
}

// validName applies ARM's common naming rules.
func validName(n string) error {
	if len(n) == 0 || len(n) > 260 || strings.ContainsAny(n, "<>%&:\\?/#*") || strings.HasSuffix(n, ".") || strings.HasSuffix(n, " ") {
		return fault.Errorf(fault.Invalid, "InvalidResourceName", "The resource name '%s' is invalid.", n)
	}
	return nil
}

// Delete deletes a resource and everything below it, with the role
// assignments at those scopes and their system-assigned identities.
func (s *Service) Delete(ctx context.Context, a Actor, id domain.ResourceID, rawID string) (*Operation, error) {
	spec, ok := lookupType(id.OperationType())
	if !ok {
		return nil, invalidType(id)
	}
	if _, err := s.Subscription(ctx, a.TenantID, id.SubscriptionID); err != nil {
		return nil, err
	}
	r, err := s.store.GetResource(ctx, rawID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.TenantID != a.TenantID) {
		return nil, s.notFound(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	var op *Operation
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		if err := s.deleteTree(ctx, tx, r.ID, r.SubscriptionID, r.ResourceGroup); err != nil {
			return err
		}
		if spec.Async {
			op, err = s.newOperation(ctx, tx, a, id.SubscriptionID, r.Location)
			return err
		}
		return nil
	})
	return op, err
}

// deleteTree removes id and its descendants, their identities and nodes, and
// the role assignments at their scopes or held by their identities.
func (s *Service) deleteTree(ctx context.Context, tx store.Tx, id, sub, rg string) error {
	in, err := tx.ListResourcesIn(ctx, sub, rg)
	if err != nil {
		return err
	}
	var identities []string
	lower := strings.ToLower(id)
	for _, r := range in {
		k := strings.ToLower(r.ID)
		if k != lower && !strings.HasPrefix(k, lower+"/") {
			continue
		}
		if d, err := docOf(r); err == nil {
			if pid := identityPrincipal(d); pid != "" {
				identities = append(identities, pid)
			}
		}
	}
	if _, err := tx.DeleteResourceTree(ctx, id); err != nil {
		return err
	}
	// Nodes of deleted computes lose their registration with them.
	if _, err := tx.DeleteNodeTree(ctx, id); err != nil {
		return err
	}
	return s.deleteIdentitiesAndAssignments(ctx, tx, sub, id, identities)
}

// deleteIdentitiesAndAssignments deletes the identities' service principals,
// which takes along whatever they hold (role assignments included), and
// every role assignment at or below scope ("" deletes none by scope).
func (s *Service) deleteIdentitiesAndAssignments(ctx context.Context, tx store.Tx, sub, scope string, identities []string) error {
	subRec, err := tx.GetSubscription(ctx, sub)
	if err != nil {
		return fmt.Errorf("load subscription %s: %w", sub, err)
	}
	for _, pid := range identities {
		err := s.identities.DeleteServicePrincipalTx(ctx, tx, subRec.TenantID, pid)
		if errors.Is(err, store.ErrNotFound) {
			// Deleted through Graph already, with everything it held.
			continue
		}
		if err != nil {
			return identityRefusal(fmt.Errorf("delete identity %s: %w", pid, err))
		}
	}
	if scope == "" {
		return nil
	}
	all, err := tx.ListRoleAssignments(ctx, subRec.TenantID)
	if err != nil {
		return fmt.Errorf("list role assignments: %w", err)
	}
	for _, ra := range all {
		if !domain.IsScopeWithin(ra.Scope, scope) {
			continue
		}
		if err := tx.DeleteRoleAssignment(ctx, ra.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete role assignment %s at %s: %w", ra.ID, ra.Scope, err)
		}
	}
	return nil
}

// identityPrincipal is the principal a document's deletion takes along: its
// system-assigned identity, or the identity a user-assigned identity
// resource is.
func identityPrincipal(d Document) string {
	if strings.EqualFold(str(d["type"]), TypeUserAssignedIdentity) {
		p, _ := d["properties"].(map[string]any)
		return str(p["principalId"])
	}
	idn, _ := d["identity"].(map[string]any)
	if idn == nil {
		return ""
	}
	return str(idn["principalId"])
}

func (s *Service) newOperation(ctx context.Context, tx store.Tx, a Actor, sub, location string) (*Operation, error) {
	if location == "" {
		location = "local"
	}
	name := uuid.NewString()
	id := "/subscriptions/" + sub + "/providers/" + ProviderML + "/locations/" + location + "/computeOperationsStatus/" + name
	now := s.now().UTC()
	body, _ := json.Marshal(Document{"name": name, "status": "Succeeded",
		"startTime": now.Format("2006-01-02T15:04:05.000Z"), "endTime": now.Format("2006-01-02T15:04:05.000Z")})
	err := tx.PutResource(ctx, domain.Resource{ID: id, TenantID: a.TenantID, SubscriptionID: sub, Type: ProviderML + "/locations/computeOperationsStatus",
		ParentID: "", Name: name, Location: location, ETag: newETag(), Body: body, CreatedBy: a.ObjectID, CreatedAt: now, UpdatedAt: now}, "")
	if err != nil {
		return nil, fmt.Errorf("record operation: %w", err)
	}
	return &Operation{ID: id, Name: name}, nil
}

// OperationStatus returns a long-running operation's status to the principal
// that started it (status records are not RBAC-scoped resources).
func (s *Service) OperationStatus(ctx context.Context, a Actor, rawID string) (Document, error) {
	r, err := s.store.GetResource(ctx, rawID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (r.TenantID != a.TenantID || r.CreatedBy != a.ObjectID)) {
		return nil, fault.Errorf(fault.NotFound, "OperationNotFound", "The operation was not found.")
	}
	if err != nil {
		return nil, err
	}
	return docOf(r)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
