package workspace

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// Subscriptions lists the subscriptions cred can see (the resource
// manager's GET /subscriptions, through armsubscriptions).
func Subscriptions(ctx context.Context, cred azcore.TokenCredential, opts ...Option) ([]*armsubscriptions.Subscription, error) {
	_, co, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	c, err := armsubscriptions.NewClient(cred, co)
	if err != nil {
		return nil, err
	}
	return collect(ctx, c.NewListPager(nil), func(r armsubscriptions.ClientListResponse) []*armsubscriptions.Subscription { return r.Value })
}

// DefaultSubscription is the one subscription cred can see, for programs
// and verbs given none. It fails, naming them, when there are several.
func DefaultSubscription(ctx context.Context, cred azcore.TokenCredential, opts ...Option) (string, error) {
	subs, err := Subscriptions(ctx, cred, opts...)
	if err != nil {
		return "", fmt.Errorf("list subscriptions: %w", err)
	}
	switch len(subs) {
	case 0:
		return "", errors.New("no subscription is visible to you: ask for a role assignment, or name the subscription")
	case 1:
		return *subs[0].SubscriptionID, nil
	}
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = *s.SubscriptionID
	}
	return "", fmt.Errorf("%d subscriptions are visible to you (%s): name one", len(subs), strings.Join(ids, ", "))
}
