package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Conditional Access, in Microsoft Graph's shape (conditionalAccessPolicy
// and ipNamedLocation) for the subset Tessera evaluates: users and groups
// (include/exclude), target resources (by appId, or All), client app types,
// IP named locations, and the grant controls block and mfa. Policies are
// enabled, disabled, or report-only (evaluated and logged, not enforced).

// Policy states.
const (
	StateEnabled    = "enabled"
	StateDisabled   = "disabled"
	StateReportOnly = "enabledForReportingButNotEnforced"
)

// Client app types a sign-in is classified as.
const (
	ClientAppBrowser = "browser"
	ClientAppNative  = "mobileAppsAndDesktopClients"
)

// Policy is a conditionalAccessPolicy.
type Policy struct {
	ID               string          `json:"id"`
	DisplayName      string          `json:"displayName"`
	State            string          `json:"state"`
	CreatedDateTime  string          `json:"createdDateTime,omitempty"`
	ModifiedDateTime *string         `json:"modifiedDateTime"`
	Conditions       Conditions      `json:"conditions"`
	GrantControls    *GrantControls  `json:"grantControls"`
	SessionControls  json.RawMessage `json:"sessionControls"`
}

// Conditions are a policy's conditions.
type Conditions struct {
	Users          *UserCondition        `json:"users"`
	Applications   *ApplicationCondition `json:"applications"`
	ClientAppTypes []string              `json:"clientAppTypes"`
	Locations      *LocationCondition    `json:"locations"`
}

// UserCondition selects users: "All", "None", object ids, or members of groups.
type UserCondition struct {
	IncludeUsers  []string `json:"includeUsers"`
	ExcludeUsers  []string `json:"excludeUsers"`
	IncludeGroups []string `json:"includeGroups"`
	ExcludeGroups []string `json:"excludeGroups"`
	IncludeRoles  []string `json:"includeRoles"`
	ExcludeRoles  []string `json:"excludeRoles"`
}

// ApplicationCondition selects target resources by appId ("All", "None").
type ApplicationCondition struct {
	IncludeApplications []string `json:"includeApplications"`
	ExcludeApplications []string `json:"excludeApplications"`
}

// LocationCondition selects client addresses by named location ("All",
// "AllTrusted" or ids).
type LocationCondition struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

// GrantControls are what a policy requires: block, or mfa.
type GrantControls struct {
	Operator        string   `json:"operator"`
	BuiltInControls []string `json:"builtInControls"`
}

// NamedLocation is an ipNamedLocation.
type NamedLocation struct {
	ODataType        string    `json:"@odata.type"`
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	IsTrusted        bool      `json:"isTrusted"`
	IPRanges         []IPRange `json:"ipRanges"`
	CreatedDateTime  string    `json:"createdDateTime,omitempty"`
	ModifiedDateTime string    `json:"modifiedDateTime,omitempty"`
}

// IPRange is an iPv4CidrRange or iPv6CidrRange.
type IPRange struct {
	ODataType   string `json:"@odata.type,omitempty"`
	CIDRAddress string `json:"cidrAddress"`
}

const (
	controlBlock = "block"
	controlMFA   = "mfa"
)

var knownControls = map[string]bool{controlBlock: true, controlMFA: true, "compliantDevice": true,
	"domainJoinedDevice": true, "approvedApplication": true, "compliantApplication": true, "passwordChange": true}

var knownAppTypes = map[string]bool{"all": true, ClientAppBrowser: true, ClientAppNative: true, "exchangeActiveSync": true, "other": true}

// PolicyError is a policy or location the caller must fix: an Invalid
// refusal (Graph 400).
type PolicyError struct{ Message string }

func (e *PolicyError) Error() string { return e.Message }

// Unwrap is the refusal.
func (e *PolicyError) Unwrap() error { return fault.New(fault.Invalid, CodeInvalidPolicy, e.Message) }

func policyErrorf(format string, args ...any) error {
	return &PolicyError{Message: fmt.Sprintf(format, args...)}
}

func (p *Policy) validate() error {
	if strings.TrimSpace(p.DisplayName) == "" {
		return policyErrorf("displayName is required.")
	}
	switch p.State {
	case StateEnabled, StateDisabled, StateReportOnly:
	default:
		return policyErrorf("state must be enabled, disabled or enabledForReportingButNotEnforced.")
	}
	c := p.Conditions
	if c.Users == nil || len(c.Users.IncludeUsers)+len(c.Users.IncludeGroups)+len(c.Users.IncludeRoles) == 0 {
		return policyErrorf("conditions.users must include users, groups or roles.")
	}
	if c.Applications == nil || len(c.Applications.IncludeApplications) == 0 {
		return policyErrorf("conditions.applications.includeApplications is required.")
	}
	if len(c.ClientAppTypes) == 0 {
		return policyErrorf("conditions.clientAppTypes is required.")
	}
	for _, t := range c.ClientAppTypes {
		if !knownAppTypes[t] {
			return policyErrorf("conditions.clientAppTypes value '%s' is not supported.", t)
		}
	}
	if p.GrantControls == nil || len(p.GrantControls.BuiltInControls) == 0 {
		return policyErrorf("grantControls.builtInControls is required.")
	}
	switch strings.ToUpper(p.GrantControls.Operator) {
	case "", "OR", "AND":
		if p.GrantControls.Operator == "" {
			p.GrantControls.Operator = "OR"
		}
	default:
		return policyErrorf("grantControls.operator must be AND or OR.")
	}
	for _, ctl := range p.GrantControls.BuiltInControls {
		if !knownControls[ctl] {
			return policyErrorf("grantControls.builtInControls value '%s' is not supported.", ctl)
		}
	}
	if slices.Contains(p.GrantControls.BuiltInControls, controlBlock) && len(p.GrantControls.BuiltInControls) > 1 {
		return policyErrorf("The block control cannot be combined with other controls.")
	}
	return nil
}

func (l *NamedLocation) validate() error {
	if strings.TrimSpace(l.DisplayName) == "" {
		return policyErrorf("displayName is required.")
	}
	if l.ODataType == "" {
		l.ODataType = "#microsoft.graph.ipNamedLocation"
	}
	if l.ODataType != "#microsoft.graph.ipNamedLocation" {
		return policyErrorf("Only #microsoft.graph.ipNamedLocation named locations are supported.")
	}
	if len(l.IPRanges) == 0 {
		return policyErrorf("ipRanges must not be empty.")
	}
	for i, r := range l.IPRanges {
		p, err := netip.ParsePrefix(r.CIDRAddress)
		if err != nil {
			return policyErrorf("ipRanges[%d].cidrAddress '%s' is not a valid CIDR range.", i, r.CIDRAddress)
		}
		if r.ODataType == "" {
			l.IPRanges[i].ODataType = "#microsoft.graph.iPv4CidrRange"
			if p.Addr().Is6() {
				l.IPRanges[i].ODataType = "#microsoft.graph.iPv6CidrRange"
			}
		}
	}
	return nil
}

func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// --- storage of policies and locations ---

// ListPolicies returns a tenant's policies, oldest first.
func (s *Service) ListPolicies(ctx context.Context, tenantID string) ([]Policy, error) {
	objs, err := s.st.ListCAObjects(ctx, tenantID, domain.CAKindPolicy)
	if err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(objs))
	for _, o := range objs {
		var p Policy
		if err := json.Unmarshal(o.Doc, &p); err != nil {
			return nil, fmt.Errorf("decode policy %s: %w", o.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// GetPolicy returns one policy (store.ErrNotFound when absent).
func (s *Service) GetPolicy(ctx context.Context, tenantID, id string) (Policy, error) {
	var p Policy
	o, err := s.st.GetCAObject(ctx, tenantID, domain.CAKindPolicy, strings.ToLower(id))
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(o.Doc, &p)
}

// CreatePolicy validates and stores a new policy.
func (s *Service) CreatePolicy(ctx context.Context, tenantID string, p Policy) (Policy, error) {
	p.ID = uuid.NewString()
	now := s.now().UTC()
	p.CreatedDateTime, p.ModifiedDateTime = graphTime(now), nil
	if err := p.validate(); err != nil {
		return p, err
	}
	return p, s.putPolicy(ctx, tenantID, p, now)
}

// ReplacePolicy stores p (already merged with a PATCH) under id.
func (s *Service) ReplacePolicy(ctx context.Context, tenantID, id string, p Policy) (Policy, error) {
	old, err := s.GetPolicy(ctx, tenantID, id)
	if err != nil {
		return p, err
	}
	now := s.now().UTC()
	m := graphTime(now)
	p.ID, p.CreatedDateTime, p.ModifiedDateTime = old.ID, old.CreatedDateTime, &m
	if err := p.validate(); err != nil {
		return p, err
	}
	return p, s.putPolicy(ctx, tenantID, p, now)
}

func (s *Service) putPolicy(ctx context.Context, tenantID string, p Policy, now time.Time) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.st.PutCAObject(ctx, domain.ConditionalAccessObject{TenantID: tenantID, Kind: domain.CAKindPolicy, ID: p.ID,
		Doc: doc, CreatedAt: now, ModifiedAt: now})
}

// DeletePolicy removes a policy (store.ErrNotFound when absent).
func (s *Service) DeletePolicy(ctx context.Context, tenantID, id string) error {
	return s.st.DeleteCAObject(ctx, tenantID, domain.CAKindPolicy, strings.ToLower(id))
}

// ListLocations returns a tenant's named locations.
func (s *Service) ListLocations(ctx context.Context, tenantID string) ([]NamedLocation, error) {
	objs, err := s.st.ListCAObjects(ctx, tenantID, domain.CAKindNamedLocation)
	if err != nil {
		return nil, err
	}
	out := make([]NamedLocation, 0, len(objs))
	for _, o := range objs {
		var l NamedLocation
		if err := json.Unmarshal(o.Doc, &l); err != nil {
			return nil, fmt.Errorf("decode named location %s: %w", o.ID, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// GetLocation returns one named location.
func (s *Service) GetLocation(ctx context.Context, tenantID, id string) (NamedLocation, error) {
	var l NamedLocation
	o, err := s.st.GetCAObject(ctx, tenantID, domain.CAKindNamedLocation, strings.ToLower(id))
	if err != nil {
		return l, err
	}
	return l, json.Unmarshal(o.Doc, &l)
}

// CreateLocation validates and stores a named location.
func (s *Service) CreateLocation(ctx context.Context, tenantID string, l NamedLocation) (NamedLocation, error) {
	l.ID = uuid.NewString()
	now := s.now().UTC()
	l.CreatedDateTime, l.ModifiedDateTime = graphTime(now), graphTime(now)
	if err := l.validate(); err != nil {
		return l, err
	}
	return l, s.putLocation(ctx, tenantID, l, now)
}

// ReplaceLocation stores l (already merged with a PATCH) under id.
func (s *Service) ReplaceLocation(ctx context.Context, tenantID, id string, l NamedLocation) (NamedLocation, error) {
	old, err := s.GetLocation(ctx, tenantID, id)
	if err != nil {
		return l, err
	}
	now := s.now().UTC()
	l.ID, l.CreatedDateTime, l.ModifiedDateTime = old.ID, old.CreatedDateTime, graphTime(now)
	if err := l.validate(); err != nil {
		return l, err
	}
	return l, s.putLocation(ctx, tenantID, l, now)
}

func (s *Service) putLocation(ctx context.Context, tenantID string, l NamedLocation, now time.Time) error {
	doc, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return s.st.PutCAObject(ctx, domain.ConditionalAccessObject{TenantID: tenantID, Kind: domain.CAKindNamedLocation, ID: l.ID,
		Doc: doc, CreatedAt: now, ModifiedAt: now})
}

// DeleteLocation removes a named location. A location a policy names
// cannot be deleted (Graph answers 400 likewise).
func (s *Service) DeleteLocation(ctx context.Context, tenantID, id string) error {
	ps, err := s.ListPolicies(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if l := p.Conditions.Locations; l != nil && (containsFold(l.IncludeLocations, id) || containsFold(l.ExcludeLocations, id)) {
			return policyErrorf("The named location is used by the policy '%s'.", p.DisplayName)
		}
	}
	return s.st.DeleteCAObject(ctx, tenantID, domain.CAKindNamedLocation, strings.ToLower(id))
}

// --- evaluation ---

// SignInContext describes a sign-in to evaluate.
type SignInContext struct {
	Tenant        domain.Tenant
	User          domain.User
	ClientAppID   string
	ResourceAppID string
	ClientIP      string
	// ClientAppType is ClientAppBrowser or ClientAppNative.
	ClientAppType string
	// AMR lists the methods the person already used.
	AMR []string
}

// PolicyResult is one policy's outcome, as the sign-in log reports it
// (Graph's appliedConditionalAccessPolicy).
type PolicyResult struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName"`
	Result                string   `json:"result"`
	EnforcedGrantControls []string `json:"enforcedGrantControls"`
}

// Decision is what the sign-in must do.
type Decision struct {
	// Block: an enabled policy blocks the sign-in (AADSTS53003).
	Block bool
	// BlockedBy names the blocking policies, for the person's message.
	BlockedBy []string
	// NeedMFA: a second factor is required and not yet in AMR.
	NeedMFA bool
	// MFAEnrolled: the user has an authenticator app (else must register one).
	MFAEnrolled bool
	// PerUserMFA: the requirement comes from the user's own registration.
	PerUserMFA bool
	Results    []PolicyResult
}

// Status is the sign-in log's conditionalAccessStatus.
func (d Decision) Status() string {
	applied := false
	for _, r := range d.Results {
		switch r.Result {
		case "failure":
			return "failure"
		case "success":
			applied = true
		}
	}
	if d.NeedMFA {
		return "failure"
	}
	if applied {
		return "success"
	}
	return "notApplied"
}

// Details are the sign-in log fields of the decision.
func (d Decision) Details() map[string]string {
	b, _ := json.Marshal(d.Results)
	return map[string]string{"conditionalAccessStatus": d.Status(), "appliedConditionalAccessPolicies": string(b)}
}

// Evaluate decides what a sign-in needs: Conditional Access policies
// (enforced and report-only), and the per-user MFA of a user who registered
// an authenticator app. It is called before the second factor and again
// after it, so the final evaluation is the one logged.
func (s *Service) Evaluate(ctx context.Context, sc SignInContext) (Decision, error) {
	var d Decision
	enrolled, err := s.HasTOTP(ctx, sc.Tenant.ID, sc.User.ID)
	if err != nil {
		return d, err
	}
	d.MFAEnrolled = enrolled
	hasMFA := HasMFA(sc.AMR)
	if enrolled && !hasMFA {
		d.NeedMFA, d.PerUserMFA = true, true
	}
	policies, err := s.ListPolicies(ctx, sc.Tenant.ID)
	if err != nil {
		return d, err
	}
	if len(policies) == 0 {
		return d, nil
	}
	locs, err := s.ListLocations(ctx, sc.Tenant.ID)
	if err != nil {
		return d, err
	}
	// Group memberships (transitive) and directory roles are loaded only
	// when some policy selects by them.
	var groups, roles []string
	var needGroups, needRoles bool
	for _, p := range policies {
		if u := p.Conditions.Users; u != nil {
			needGroups = needGroups || len(u.IncludeGroups)+len(u.ExcludeGroups) > 0
			needRoles = needRoles || len(u.IncludeRoles)+len(u.ExcludeRoles) > 0
		}
	}
	if needGroups {
		if groups, err = s.dir.GetMemberGroups(ctx, sc.Tenant.ID, sc.User.ID, false); err != nil {
			return d, err
		}
	}
	if needRoles {
		a, err := s.dir.AccessOf(ctx, sc.Tenant.ID, sc.User.ID)
		if err != nil {
			return d, err
		}
		roles = a.Roles()
	}
	member := membership{groups: groups, roles: roles}
	for _, p := range policies {
		if p.State == StateDisabled {
			d.Results = append(d.Results, PolicyResult{ID: p.ID, DisplayName: p.DisplayName, Result: "notEnabled", EnforcedGrantControls: []string{}})
			continue
		}
		report := p.State == StateReportOnly
		res := PolicyResult{ID: p.ID, DisplayName: p.DisplayName, EnforcedGrantControls: []string{}}
		if p.GrantControls != nil {
			res.EnforcedGrantControls = p.GrantControls.BuiltInControls
		}
		applies := p.appliesTo(sc, member, locs)
		var outcome string
		switch {
		case !applies:
			outcome = "notApplied"
		default:
			block, mfa := p.requires(hasMFA)
			switch {
			case block:
				outcome = "failure"
				if !report {
					d.Block = true
					d.BlockedBy = append(d.BlockedBy, p.DisplayName)
				}
			case mfa:
				outcome = "failure"
				if report {
					outcome = "interrupted" // report-only: the prompt would have been shown
				} else {
					d.NeedMFA = true
				}
			default:
				outcome = "success"
			}
		}
		if report {
			outcome = "reportOnly" + strings.ToUpper(outcome[:1]) + outcome[1:]
		}
		res.Result = outcome
		d.Results = append(d.Results, res)
	}
	return d, nil
}

// requires reports whether the policy blocks, or demands an MFA not yet done.
func (p Policy) requires(hasMFA bool) (block, needMFA bool) {
	gc := p.GrantControls
	if gc == nil {
		return false, false
	}
	if slices.Contains(gc.BuiltInControls, controlBlock) {
		return true, false
	}
	// Tessera can satisfy only mfa; any other control (compliant device, ...)
	// cannot be met. With OR one satisfiable control suffices.
	satisfied := func(c string) bool { return c == controlMFA && hasMFA }
	if strings.EqualFold(gc.Operator, "AND") {
		for _, c := range gc.BuiltInControls {
			if c != controlMFA {
				return true, false
			}
		}
		return false, !hasMFA
	}
	for _, c := range gc.BuiltInControls {
		if satisfied(c) {
			return false, false
		}
	}
	if slices.Contains(gc.BuiltInControls, controlMFA) {
		return false, true
	}
	return true, false
}

// membership is what user conditions select by besides the user's id.
type membership struct{ groups, roles []string }

func (p Policy) appliesTo(sc SignInContext, m membership, locs []NamedLocation) bool {
	c := p.Conditions
	if u := c.Users; u != nil {
		in := containsFold(u.IncludeUsers, "All") || containsFold(u.IncludeUsers, sc.User.ID) ||
			intersects(u.IncludeGroups, m.groups) || intersects(u.IncludeRoles, m.roles)
		out := containsFold(u.ExcludeUsers, sc.User.ID) || intersects(u.ExcludeGroups, m.groups) || intersects(u.ExcludeRoles, m.roles)
		if !in || out {
			return false
		}
	}
	if a := c.Applications; a != nil {
		in := containsFold(a.IncludeApplications, "All") || containsFold(a.IncludeApplications, sc.ResourceAppID)
		out := containsFold(a.ExcludeApplications, sc.ResourceAppID) || containsFold(a.ExcludeApplications, sc.ClientAppID)
		if !in || out {
			return false
		}
	}
	if len(c.ClientAppTypes) > 0 && !slices.Contains(c.ClientAppTypes, "all") && !slices.Contains(c.ClientAppTypes, sc.ClientAppType) {
		return false
	}
	if l := c.Locations; l != nil && len(l.IncludeLocations) > 0 {
		addr, err := netip.ParseAddr(sc.ClientIP)
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		if !inLocations(l.IncludeLocations, addr, locs) || inLocations(l.ExcludeLocations, addr, locs) {
			return false
		}
	}
	return true
}

func inLocations(refs []string, addr netip.Addr, locs []NamedLocation) bool {
	for _, ref := range refs {
		if strings.EqualFold(ref, "All") {
			return true
		}
		for _, l := range locs {
			if !strings.EqualFold(ref, l.ID) && !(strings.EqualFold(ref, "AllTrusted") && l.IsTrusted) {
				continue
			}
			for _, r := range l.IPRanges {
				if p, err := netip.ParsePrefix(r.CIDRAddress); err == nil && p.Contains(addr) {
					return true
				}
			}
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if containsFold(b, x) {
			return true
		}
	}
	return false
}

// IsNotFound reports a missing policy or location.
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
