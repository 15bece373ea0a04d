package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/google/uuid"
)

// This file holds the Graph v1.0 calls behind `tessera ad ...`: the same
// requests the Azure CLI makes (contracts/AZURE_CLI.md §5), on the client's
// authenticated pipeline.

// Error is a Graph error answer: {"error":{"code","message"}}.
type Error struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("Graph answered %d: %s", e.StatusCode, e.Message)
	}
	return fmt.Sprintf("(%s) %s", e.Code, e.Message)
}

// IsNotFound reports whether err is Graph's 404.
func IsNotFound(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.StatusCode == http.StatusNotFound
}

// Document keeps the JSON object Graph returned, so that a caller can print
// it whole (as az does) while reading the typed fields it needs.
type Document struct{ raw json.RawMessage }

// JSON is the object exactly as Graph returned it.
func (d Document) JSON() json.RawMessage { return d.raw }

func (d *Document) setRaw(b []byte) { d.raw = append(json.RawMessage(nil), b...) }

// PasswordCredential is a client secret of an application or service
// principal; SecretText is set only in the answer that created it.
type PasswordCredential struct {
	KeyID         string  `json:"keyId"`
	DisplayName   *string `json:"displayName"`
	StartDateTime string  `json:"startDateTime"`
	EndDateTime   string  `json:"endDateTime"`
	Hint          string  `json:"hint"`
	SecretText    string  `json:"secretText,omitempty"`
}

// Application is an app registration.
type Application struct {
	Document
	ID                  string               `json:"id"`
	AppID               string               `json:"appId"`
	DisplayName         string               `json:"displayName"`
	IdentifierURIs      []string             `json:"identifierUris"`
	PasswordCredentials []PasswordCredential `json:"passwordCredentials"`
}

// FederatedCredential is a federated identity credential of an application:
// tokens from Issuer for Subject, with one of Audiences, sign the app in.
type FederatedCredential struct {
	Document
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// ServicePrincipal is an application's identity in the tenant.
type ServicePrincipal struct {
	Document
	ID                     string               `json:"id"`
	AppID                  string               `json:"appId"`
	DisplayName            string               `json:"displayName"`
	AppOwnerOrganizationID string               `json:"appOwnerOrganizationId"`
	ServicePrincipalNames  []string             `json:"servicePrincipalNames"`
	PasswordCredentials    []PasswordCredential `json:"passwordCredentials"`
}

// User is a user account.
type User struct {
	Document
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
}

// Group is a security group.
type Group struct {
	Document
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	MailNickname string `json:"mailNickname"`
}

// DirectoryObject is a member of a group: a user, group or service principal.
type DirectoryObject struct {
	Document
	ODataType   string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type rawSetter interface{ setRaw([]byte) }

// do sends one Graph request. body is marshalled as JSON when not nil; a
// 2xx answer is decoded into out when out is not nil.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	u := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		u = c.base + "/graph/v1.0" + path
	}
	req, err := runtime.NewRequest(ctx, method, u)
	if err != nil {
		return err
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(b)), "application/json"); err != nil {
			return err
		}
	}
	resp, err := c.pipeline.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		ge := &Error{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(raw))}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			ge.Code, ge.Message = e.Error.Code, e.Error.Message
		}
		return ge
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	if r, ok := out.(rawSetter); ok {
		r.setRaw(raw)
	}
	return nil
}

// listAll reads a collection, following @odata.nextLink; query is the
// encoded query string (may be empty); max > 0 stops after that many items.
func listAll[T any, P interface {
	*T
	rawSetter
}](ctx context.Context, c *Client, path, query string, max int) ([]T, error) {
	next := path
	if query != "" {
		next += "?" + query
	}
	out := []T{}
	for next != "" {
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		for _, item := range page.Value {
			var v T
			if err := json.Unmarshal(item, &v); err != nil {
				return nil, fmt.Errorf("decode %s item: %w", path, err)
			}
			P(&v).setRaw(item)
			out = append(out, v)
			if max > 0 && len(out) >= max {
				return out, nil
			}
		}
		next = page.NextLink
	}
	return out, nil
}

func filterQuery(filter string) string {
	if filter == "" {
		return ""
	}
	return "$filter=" + url.QueryEscape(filter)
}

// Eq is an OData `property eq 'value'` clause with the value quoted.
func Eq(property, value string) string { return property + " eq " + quote(value) }

// StartsWith is an OData `startswith(property,'value')` clause.
func StartsWith(property, value string) string {
	return "startswith(" + property + "," + quote(value) + ")"
}

// AnyEq is an OData `collection/any(c:c eq 'value')` clause.
func AnyEq(collection, value string) string {
	return collection + "/any(c:c eq " + quote(value) + ")"
}

func isGUID(s string) bool { _, err := uuid.Parse(s); return err == nil }

// ---- applications ----

// ListApplications lists applications matching filter (all when empty).
func (c *Client) ListApplications(ctx context.Context, filter string) ([]Application, error) {
	return listAll[Application](ctx, c, "/applications", filterQuery(filter), 0)
}

// GetApplication reads an application by object id.
func (c *Client) GetApplication(ctx context.Context, objectID string) (Application, error) {
	var a Application
	err := c.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(objectID), nil, &a)
	return a, err
}

// CreateApplication registers an application; body holds Graph's
// application properties (displayName at least).
func (c *Client) CreateApplication(ctx context.Context, body map[string]any) (Application, error) {
	var a Application
	err := c.do(ctx, http.MethodPost, "/applications", body, &a)
	return a, err
}

// UpdateApplication patches an application.
func (c *Client) UpdateApplication(ctx context.Context, objectID string, body map[string]any) error {
	return c.do(ctx, http.MethodPatch, "/applications/"+url.PathEscape(objectID), body, nil)
}

// DeleteApplication deletes an application (Tessera deletes its service
// principal, credentials and role assignments with it).
func (c *Client) DeleteApplication(ctx context.Context, objectID string) error {
	return c.do(ctx, http.MethodDelete, "/applications/"+url.PathEscape(objectID), nil, nil)
}

// ResolveApplication finds an application the way az does: by app id, then
// identifier URI, then object id.
func (c *Client) ResolveApplication(ctx context.Context, id string) (Application, error) {
	filter := AnyEq("identifierUris", id)
	if isGUID(id) {
		filter = Eq("appId", id)
	}
	apps, err := c.ListApplications(ctx, filter)
	if err != nil {
		return Application{}, err
	}
	if len(apps) == 1 {
		return c.GetApplication(ctx, apps[0].ID)
	}
	if len(apps) == 0 && isGUID(id) {
		a, err := c.GetApplication(ctx, id)
		if err == nil || !IsNotFound(err) {
			return a, err
		}
	}
	if len(apps) > 1 {
		return Application{}, fmt.Errorf("more than one application matches %q", id)
	}
	return Application{}, &Error{StatusCode: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: fmt.Sprintf("no application matches %q", id)}
}

// NewPassword is the body of addPassword: a display name and a lifetime.
func NewPassword(displayName string, lifetime time.Duration) map[string]any {
	now := time.Now().UTC()
	cred := map[string]any{"startDateTime": now.Format(time.RFC3339), "endDateTime": now.Add(lifetime).Format(time.RFC3339)}
	if displayName != "" {
		cred["displayName"] = displayName
	}
	return map[string]any{"passwordCredential": cred}
}

// AddApplicationPassword adds a client secret; SecretText holds it (shown once).
func (c *Client) AddApplicationPassword(ctx context.Context, objectID string, body map[string]any) (PasswordCredential, error) {
	var p PasswordCredential
	err := c.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(objectID)+"/addPassword", body, &p)
	return p, err
}

// RemoveApplicationPassword removes a client secret by key id.
func (c *Client) RemoveApplicationPassword(ctx context.Context, objectID, keyID string) error {
	return c.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(objectID)+"/removePassword", map[string]any{"keyId": keyID}, nil)
}

func federatedPath(objectID string) string {
	return "/applications/" + url.PathEscape(objectID) + "/federatedIdentityCredentials"
}

// ListFederatedCredentials lists an application's federated identity credentials.
func (c *Client) ListFederatedCredentials(ctx context.Context, objectID string) ([]FederatedCredential, error) {
	return listAll[FederatedCredential](ctx, c, federatedPath(objectID), "", 0)
}

// CreateFederatedCredential adds a federated identity credential; body holds
// Graph's federatedIdentityCredential properties (name, issuer, subject,
// audiences, description).
func (c *Client) CreateFederatedCredential(ctx context.Context, objectID string, body map[string]any) (FederatedCredential, error) {
	var f FederatedCredential
	err := c.do(ctx, http.MethodPost, federatedPath(objectID), body, &f)
	return f, err
}

// DeleteFederatedCredential deletes a federated identity credential by id
// or, as Graph also allows, by name.
func (c *Client) DeleteFederatedCredential(ctx context.Context, objectID, idOrName string) error {
	return c.do(ctx, http.MethodDelete, federatedPath(objectID)+"/"+url.PathEscape(idOrName), nil, nil)
}

// ---- service principals ----

// ListServicePrincipals lists service principals matching filter (all when
// empty), at most max when max > 0.
func (c *Client) ListServicePrincipals(ctx context.Context, filter string, max int) ([]ServicePrincipal, error) {
	return listAll[ServicePrincipal](ctx, c, "/servicePrincipals", filterQuery(filter), max)
}

// GetServicePrincipal reads a service principal by object id.
func (c *Client) GetServicePrincipal(ctx context.Context, objectID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	err := c.do(ctx, http.MethodGet, "/servicePrincipals/"+url.PathEscape(objectID), nil, &sp)
	return sp, err
}

// CreateServicePrincipal creates the service principal of an application.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	err := c.do(ctx, http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID, "accountEnabled": true}, &sp)
	return sp, err
}

// DeleteServicePrincipal deletes a service principal by object id.
func (c *Client) DeleteServicePrincipal(ctx context.Context, objectID string) error {
	return c.do(ctx, http.MethodDelete, "/servicePrincipals/"+url.PathEscape(objectID), nil, nil)
}

// ResolveServicePrincipal finds a service principal the way az does: by a
// service principal name (app id or identifier URI), then by object id.
func (c *Client) ResolveServicePrincipal(ctx context.Context, id string) (ServicePrincipal, error) {
	sps, err := c.ListServicePrincipals(ctx, AnyEq("servicePrincipalNames", id), 0)
	if err != nil {
		return ServicePrincipal{}, err
	}
	if len(sps) == 1 {
		return c.GetServicePrincipal(ctx, sps[0].ID)
	}
	if len(sps) == 0 && isGUID(id) {
		sp, err := c.GetServicePrincipal(ctx, id)
		if err == nil || !IsNotFound(err) {
			return sp, err
		}
	}
	if len(sps) > 1 {
		return ServicePrincipal{}, fmt.Errorf("more than one service principal matches %q", id)
	}
	return ServicePrincipal{}, &Error{StatusCode: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: fmt.Sprintf("no service principal matches %q", id)}
}

// AddServicePrincipalPassword adds a secret to the service principal itself.
func (c *Client) AddServicePrincipalPassword(ctx context.Context, objectID string, body map[string]any) (PasswordCredential, error) {
	var p PasswordCredential
	err := c.do(ctx, http.MethodPost, "/servicePrincipals/"+url.PathEscape(objectID)+"/addPassword", body, &p)
	return p, err
}

// RemoveServicePrincipalPassword removes a service principal's secret.
func (c *Client) RemoveServicePrincipalPassword(ctx context.Context, objectID, keyID string) error {
	return c.do(ctx, http.MethodPost, "/servicePrincipals/"+url.PathEscape(objectID)+"/removePassword", map[string]any{"keyId": keyID}, nil)
}

// ---- users ----

// userPath addresses a user by object id or UPN as az does: '#' escaped,
// and a key starting with '$' in the users('…') form.
func userPath(id string) string {
	if strings.HasPrefix(id, "$") {
		return "/users('" + url.PathEscape(strings.ReplaceAll(id, "'", "''")) + "')"
	}
	return "/users/" + url.PathEscape(id)
}

// CreateUser creates a user; body holds Graph's user properties.
func (c *Client) CreateUser(ctx context.Context, body map[string]any) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPost, "/users", body, &u)
	return u, err
}

// GetUser reads a user by object id or user principal name.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, userPath(id), nil, &u)
	return u, err
}

// ListUsers lists users matching filter (all when empty).
func (c *Client) ListUsers(ctx context.Context, filter string) ([]User, error) {
	return listAll[User](ctx, c, "/users", filterQuery(filter), 0)
}

// UpdateUser patches a user (by object id or user principal name); body
// holds Graph's user properties.
func (c *Client) UpdateUser(ctx context.Context, id string, body map[string]any) error {
	return c.do(ctx, http.MethodPatch, userPath(id), body, nil)
}

// DeleteUser deletes a user by object id or user principal name.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, userPath(id), nil, nil)
}

// ---- groups ----

// CreateGroup creates a security group.
func (c *Client) CreateGroup(ctx context.Context, displayName, mailNickname, description string) (Group, error) {
	body := map[string]any{"displayName": displayName, "mailNickname": mailNickname, "mailEnabled": false, "securityEnabled": true}
	if description != "" {
		body["description"] = description
	}
	var g Group
	err := c.do(ctx, http.MethodPost, "/groups", body, &g)
	return g, err
}

// ListGroups lists groups matching filter (all when empty).
func (c *Client) ListGroups(ctx context.Context, filter string) ([]Group, error) {
	return listAll[Group](ctx, c, "/groups", filterQuery(filter), 0)
}

// GetGroup reads a group by object id.
func (c *Client) GetGroup(ctx context.Context, objectID string) (Group, error) {
	var g Group
	err := c.do(ctx, http.MethodGet, "/groups/"+url.PathEscape(objectID), nil, &g)
	return g, err
}

// DeleteGroup deletes a group by object id.
func (c *Client) DeleteGroup(ctx context.Context, objectID string) error {
	return c.do(ctx, http.MethodDelete, "/groups/"+url.PathEscape(objectID), nil, nil)
}

// ResolveGroup finds a group by object id or, as az does, by its exact
// display name (which must be unique).
func (c *Client) ResolveGroup(ctx context.Context, id string) (Group, error) {
	if isGUID(id) {
		return c.GetGroup(ctx, id)
	}
	groups, err := c.ListGroups(ctx, Eq("displayName", id))
	if err != nil {
		return Group{}, err
	}
	switch len(groups) {
	case 1:
		return groups[0], nil
	case 0:
		return Group{}, &Error{StatusCode: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: fmt.Sprintf("no group is named %q", id)}
	}
	return Group{}, fmt.Errorf("more than one group is named %q; use the object id", id)
}

// AddMember adds a user, group or service principal (by object id) to a group.
func (c *Client) AddMember(ctx context.Context, groupID, memberID string) error {
	ref := map[string]any{"@odata.id": c.base + "/graph/v1.0/directoryObjects/" + memberID}
	return c.do(ctx, http.MethodPost, "/groups/"+url.PathEscape(groupID)+"/members/$ref", ref, nil)
}

// RemoveMember removes a direct member from a group.
func (c *Client) RemoveMember(ctx context.Context, groupID, memberID string) error {
	return c.do(ctx, http.MethodDelete, "/groups/"+url.PathEscape(groupID)+"/members/"+url.PathEscape(memberID)+"/$ref", nil, nil)
}

// ListMembers lists a group's direct members.
func (c *Client) ListMembers(ctx context.Context, groupID string) ([]DirectoryObject, error) {
	return listAll[DirectoryObject](ctx, c, "/groups/"+url.PathEscape(groupID)+"/members", "", 0)
}

// CheckMemberGroups returns which of groupIDs the object is a member of,
// directly or through nested groups.
func (c *Client) CheckMemberGroups(ctx context.Context, objectID string, groupIDs []string) ([]string, error) {
	var out struct {
		Value []string `json:"value"`
	}
	err := c.do(ctx, http.MethodPost, "/directoryObjects/"+url.PathEscape(objectID)+"/checkMemberGroups", map[string]any{"groupIds": groupIDs}, &out)
	return out.Value, err
}
