package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/sdk/workspace"
)

// subscriptionView is az's shape of a subscription in `account list` and
// `account show`, plus the Tessera server it lives on.
type subscriptionView struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	TenantID     string            `json:"tenantId"`
	HomeTenantID string            `json:"homeTenantId"`
	IsDefault    bool              `json:"isDefault"`
	User         map[string]string `json:"user,omitempty"`
	URL          string            `json:"url,omitempty"`
	Authority    string            `json:"authority,omitempty"`
	ClientID     string            `json:"clientId,omitempty"`
}

// chosenSubscription is the default subscription of verbs given none:
// $AZURE_SUBSCRIPTION_ID, then the one `tessera account set` chose.
func chosenSubscription() string {
	if v := os.Getenv("AZURE_SUBSCRIPTION_ID"); v != "" {
		return v
	}
	if c, _, err := loadCache(); err == nil {
		return c.Subscription
	}
	return ""
}

// subscriptionViews lists the visible subscriptions, the default marked.
func subscriptionViews(ctx context.Context) ([]subscriptionView, error) {
	s, err := newSession()
	if err != nil {
		return nil, err
	}
	subs, err := workspace.Subscriptions(ctx, s.cred, workspace.WithConfig(s.cfg))
	if err != nil {
		return nil, err
	}
	chosen := chosenSubscription()
	if chosen == "" && len(subs) == 1 {
		chosen = deref(subs[0].SubscriptionID)
	}
	cache, _, _ := loadCache()
	out := make([]subscriptionView, 0, len(subs))
	for _, sub := range subs {
		v := viewOf(sub)
		v.IsDefault = strings.EqualFold(v.ID, chosen)
		if cache != nil {
			v.User = map[string]string{"name": cache.Account.Name, "type": cache.Account.Type}
		}
		out = append(out, v)
	}
	return out, nil
}

func viewOf(sub *armsubscriptions.Subscription) subscriptionView {
	v := subscriptionView{ID: deref(sub.SubscriptionID), Name: deref(sub.DisplayName), TenantID: deref(sub.TenantID)}
	v.HomeTenantID = v.TenantID
	if sub.State != nil {
		v.State = string(*sub.State)
	}
	return v
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func accountListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the subscriptions you can see; isDefault marks the one verbs use when given none",
		RunE: func(cmd *cobra.Command, _ []string) error {
			subs, err := subscriptionViews(cmd.Context())
			if err != nil {
				return err
			}
			return printResult(cmd, subs)
		},
	}
}

func accountShowCommand() *cobra.Command {
	var name string
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the default subscription (or --subscription) and the signed-in account",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, v, err := signedInSubscription(cmd.Context(), name)
			if c == nil {
				return err
			}
			if err != nil && name != "" {
				return err
			}
			if err != nil {
				// No default subscription: the tenant-level account, as az
				// shows one signed in with --allow-no-subscriptions.
				fmt.Fprintln(cmd.ErrOrStderr(), "Note:", err)
				v = subscriptionView{ID: c.Account.TenantID, Name: "N/A(tenant level account)", TenantID: c.Account.TenantID, HomeTenantID: c.Account.TenantID}
			}
			v.URL, v.Authority, v.ClientID = c.URL, c.Authority, c.ClientID
			v.User = map[string]string{"name": c.Account.Name, "type": c.Account.Type, "objectId": c.Account.ObjectID}
			return printResult(cmd, v)
		},
	}
	show.Flags().StringVarP(&name, "subscription", "s", "", "subscription name or id (default: the default one)")
	return show
}

// signedInSubscription is the sign-in (nil when there is none or the
// subscriptions cannot be listed) and the subscription name names, or the
// default; a subscription that cannot be picked is the error beside a
// non-nil sign-in.
func signedInSubscription(ctx context.Context, name string) (*credential.Cache, string, subscriptionView, error) {
	c, path, err := loadCache()
	if err != nil {
		return nil, "", subscriptionView{}, err
	}
	subs, err := subscriptionViews(ctx)
	if err != nil {
		return nil, "", subscriptionView{}, err
	}
	v, err := pickSubscription(subs, name)
	return c, path, v, err
}

// pickSubscription finds a subscription by name or id, or the default.
func pickSubscription(subs []subscriptionView, name string) (subscriptionView, error) {
	for _, v := range subs {
		if name == "" && v.IsDefault || name != "" && (strings.EqualFold(v.ID, name) || v.Name == name) {
			return v, nil
		}
	}
	if name != "" {
		return subscriptionView{}, fmt.Errorf("subscription %q is not one you can see: run `tessera account list`", name)
	}
	if len(subs) == 0 {
		return subscriptionView{}, errors.New("no subscription is visible to you: ask for a role assignment")
	}
	return subscriptionView{}, fmt.Errorf("%d subscriptions are visible and none is the default: choose one with `tessera account set --subscription NAME|ID`", len(subs))
}

func accountSetCommand() *cobra.Command {
	var name string
	set := &cobra.Command{
		Use:   "set",
		Short: "Choose the default subscription of the signed-in account",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, path, v, err := signedInSubscription(cmd.Context(), name)
			if err != nil {
				return err
			}
			c.Subscription = v.ID
			if err := c.Save(path); err != nil {
				return fmt.Errorf("save %s: %w", path, err)
			}
			if os.Getenv("AZURE_SUBSCRIPTION_ID") != "" && !strings.EqualFold(os.Getenv("AZURE_SUBSCRIPTION_ID"), v.ID) {
				fmt.Fprintln(cmd.ErrOrStderr(), "Note: AZURE_SUBSCRIPTION_ID is set in this shell and still comes first.")
			}
			return nil
		},
	}
	set.Flags().StringVarP(&name, "subscription", "s", "", "subscription name or id")
	_ = set.MarkFlagRequired("subscription")
	return set
}
