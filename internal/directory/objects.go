package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Directory object kinds, named as Graph names the types.
const (
	KindUser             = "user"
	KindGroup            = "group"
	KindServicePrincipal = "servicePrincipal"
	KindApplication      = "application"
)

// Object is one directory object of any kind; exactly one pointer is set.
type Object struct {
	Kind             string
	User             *domain.User
	Group            *domain.Group
	ServicePrincipal *domain.ServicePrincipal
	Application      *domain.Application
}

// ID is the object id.
func (o Object) ID() string {
	switch {
	case o.User != nil:
		return o.User.ID
	case o.Group != nil:
		return o.Group.ID
	case o.ServicePrincipal != nil:
		return o.ServicePrincipal.ID
	case o.Application != nil:
		return o.Application.ID
	}
	return ""
}

// CreatedAt is when the object was created.
func (o Object) CreatedAt() time.Time {
	switch {
	case o.User != nil:
		return o.User.CreatedAt
	case o.Group != nil:
		return o.Group.CreatedAt
	case o.ServicePrincipal != nil:
		return o.ServicePrincipal.CreatedAt
	case o.Application != nil:
		return o.Application.CreatedAt
	}
	return time.Time{}
}

// objectReader is what object lookups read.
type objectReader interface {
	store.Users
	store.Apps
	store.Groups
}

// lookupObject finds id among kinds (all kinds when none given), in the
// order users, service principals, groups, applications.
func lookupObject(ctx context.Context, st objectReader, tenantID, id string, kinds ...string) (Object, error) {
	id = normID(id)
	want := func(k string) bool {
		if len(kinds) == 0 {
			return true
		}
		for _, x := range kinds {
			if strings.EqualFold(x, k) {
				return true
			}
		}
		return false
	}
	miss := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	if want(KindUser) {
		u, err := st.GetUser(ctx, tenantID, id)
		if err == nil {
			return Object{Kind: KindUser, User: &u}, nil
		} else if !miss(err) {
			return Object{}, err
		}
	}
	if want(KindServicePrincipal) {
		sp, err := st.GetServicePrincipal(ctx, tenantID, id)
		if err == nil {
			return Object{Kind: KindServicePrincipal, ServicePrincipal: &sp}, nil
		} else if !miss(err) {
			return Object{}, err
		}
	}
	if want(KindGroup) {
		g, err := st.GetGroup(ctx, tenantID, id)
		if err == nil {
			return Object{Kind: KindGroup, Group: &g}, nil
		} else if !miss(err) {
			return Object{}, err
		}
	}
	if want(KindApplication) {
		a, err := st.GetApplication(ctx, tenantID, id)
		if err == nil {
			return Object{Kind: KindApplication, Application: &a}, nil
		} else if !miss(err) {
			return Object{}, err
		}
	}
	return Object{}, notFound(id)
}

// GetObject returns the directory object with id, of any kind.
func (s *Service) GetObject(ctx context.Context, tenantID, id string) (Object, error) {
	return lookupObject(ctx, s.store, tenantID, id)
}

// MaxGetByIDs bounds directoryObjects/getByIds, as Graph does.
const MaxGetByIDs = 1000

// GetObjects returns the objects among ids that exist and are of one of
// kinds (any kind when kinds is empty), in the order of ids; ids that do not
// resolve are left out. Unknown kinds (device, directoryObjectPartnerReference,
// ...) match nothing.
func (s *Service) GetObjects(ctx context.Context, tenantID string, ids, kinds []string) ([]Object, error) {
	if len(ids) > MaxGetByIDs {
		return nil, invalidf("Too many object ids: at most %d may be requested.", MaxGetByIDs)
	}
	var known []string
	for _, k := range kinds {
		k = strings.TrimPrefix(strings.TrimPrefix(k, "#"), "microsoft.graph.")
		for _, x := range []string{KindUser, KindGroup, KindServicePrincipal, KindApplication} {
			if strings.EqualFold(k, x) {
				known = append(known, x)
			}
		}
	}
	if len(kinds) > 0 && len(known) == 0 {
		return []Object{}, nil
	}
	out := []Object{}
	seen := map[string]bool{}
	for _, id := range ids {
		id = normID(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		o, err := lookupObject(ctx, s.store, tenantID, id, known...)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get object %s: %w", id, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// eachPrincipal calls fn with the id of every user, service principal and
// group of the tenant.
func eachPrincipal(ctx context.Context, st objectReader, tenantID string, fn func(id string) error) error {
	users, err := st.ListUsers(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	for _, u := range users {
		if err := fn(u.ID); err != nil {
			return err
		}
	}
	sps, err := st.ListServicePrincipals(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list service principals: %w", err)
	}
	for _, sp := range sps {
		if err := fn(sp.ID); err != nil {
			return err
		}
	}
	groups, err := st.ListGroups(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	for _, g := range groups {
		if err := fn(g.ID); err != nil {
			return err
		}
	}
	return nil
}
