package resources

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// A node secret is "<node id>.<43 base64url characters>": 256 random bits
// after the node's id. The id lets a presented secret find its record in one
// lookup; only the SHA-256 of the whole secret is stored and it is compared
// in constant time. A slow password hash would add nothing: the secret is
// random, not chosen by a person, so there is nothing to guess.
const (
	nodeSecretBytes = 32
	// maxNodesPerCompute bounds the registrations one compute can hold, so a
	// script that registers in a loop cannot grow the table without end.
	maxNodesPerCompute = 1000
	maxNodeNameLength  = 128
)

// ErrNodeUnauthorized: the presented node secret is missing, malformed,
// unknown, rotated away, revoked or expired. Callers never learn which.
var ErrNodeUnauthorized = errors.New("the node secret is not valid")

// newNodeSecret returns a fresh secret for node id and its stored hash.
func newNodeSecret(nodeID string) (string, []byte, error) {
	var b [nodeSecretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("generate node secret: %w", err)
	}
	secret := nodeID + "." + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	return secret, sum[:], nil
}

// NodeRegistration is a node with the secret just issued to it. The secret
// is returned once and never stored.
type NodeRegistration struct {
	Node   domain.ComputeNode
	Secret string
}

// compute loads the compute a node action addresses, as Get would.
func (s *Service) compute(ctx context.Context, tenantID string, id domain.ResourceID, rawID string) (domain.Resource, error) {
	if !strings.EqualFold(id.OperationType(), ProviderML+"/workspaces/computes") || len(id.Names) != len(id.Types) {
		return domain.Resource{}, fault.Errorf(fault.Invalid, "InvalidResourceType", "Nodes belong to computes: '%s' is not a compute.", rawID)
	}
	_, r, err := s.Get(ctx, tenantID, id, rawID)
	return r, err
}

// RegisterNode adds a node to a compute and issues its secret. A ttl above
// zero makes the registration expire; otherwise it lasts until revoked.
func (s *Service) RegisterNode(ctx context.Context, a Actor, id domain.ResourceID, rawID, name string, ttl time.Duration) (NodeRegistration, error) {
	comp, err := s.compute(ctx, a.TenantID, id, rawID)
	if err != nil {
		return NodeRegistration{}, err
	}
	if len(name) > maxNodeNameLength || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return NodeRegistration{}, fault.Errorf(fault.Invalid, "BadRequest", "A node name is at most %d printable characters.", maxNodeNameLength)
	}
	existing, err := s.store.ListNodes(ctx, comp.ID)
	if err != nil {
		return NodeRegistration{}, fmt.Errorf("list nodes: %w", err)
	}
	if len(existing) >= maxNodesPerCompute {
		return NodeRegistration{}, fault.Errorf(fault.Conflict, "QuotaExceeded", "The compute '%s' already has %d registered nodes; revoke some first.", comp.Name, len(existing))
	}
	now := s.now().UTC()
	n := domain.ComputeNode{ID: uuid.NewString(), TenantID: a.TenantID, ComputeID: comp.ID, Name: name, CreatedBy: a.ObjectID, CreatedAt: now}
	if n.Name == "" {
		n.Name = "node-" + n.ID[:8]
	}
	if ttl > 0 {
		n.ExpiresAt = now.Add(ttl)
	}
	secret, hash, err := newNodeSecret(n.ID)
	if err != nil {
		return NodeRegistration{}, err
	}
	n.SecretHash = hash
	if err := s.store.CreateNode(ctx, n); err != nil {
		return NodeRegistration{}, fmt.Errorf("register node: %w", err)
	}
	return NodeRegistration{Node: n, Secret: secret}, nil
}

// Nodes lists the nodes registered on a compute.
func (s *Service) Nodes(ctx context.Context, tenantID string, id domain.ResourceID, rawID string) ([]domain.ComputeNode, error) {
	comp, err := s.compute(ctx, tenantID, id, rawID)
	if err != nil {
		return nil, err
	}
	nodes, err := s.store.ListNodes(ctx, comp.ID)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// node loads a node of the addressed compute, or a 404 in ARM's words.
func (s *Service) node(ctx context.Context, tenantID string, id domain.ResourceID, rawID, nodeID string) (domain.ComputeNode, error) {
	comp, err := s.compute(ctx, tenantID, id, rawID)
	if err != nil {
		return domain.ComputeNode{}, err
	}
	n, err := s.store.GetNode(ctx, strings.ToLower(nodeID))
	if errors.Is(err, store.ErrNotFound) || err == nil && !strings.EqualFold(n.ComputeID, comp.ID) {
		return domain.ComputeNode{}, fault.Errorf(fault.NotFound, "NodeNotFound", "The node '%s' is not registered on compute '%s'.", nodeID, comp.Name)
	}
	if err != nil {
		return domain.ComputeNode{}, fmt.Errorf("load node %s: %w", nodeID, err)
	}
	return n, nil
}

// RotateNodeSecret issues a new secret to a node. The old one stops working
// when this returns: every token request reads the stored hash.
func (s *Service) RotateNodeSecret(ctx context.Context, tenantID string, id domain.ResourceID, rawID, nodeID string) (NodeRegistration, error) {
	n, err := s.node(ctx, tenantID, id, rawID, nodeID)
	if err != nil {
		return NodeRegistration{}, err
	}
	secret, hash, err := newNodeSecret(n.ID)
	if err != nil {
		return NodeRegistration{}, err
	}
	n.SecretHash, n.RotatedAt = hash, s.now().UTC()
	if err := s.store.UpdateNodeSecret(ctx, n.ID, n.SecretHash, n.RotatedAt); err != nil {
		return NodeRegistration{}, fmt.Errorf("rotate node secret: %w", err)
	}
	return NodeRegistration{Node: n, Secret: secret}, nil
}

// RevokeNode deletes a node's registration; its secret stops working at once.
func (s *Service) RevokeNode(ctx context.Context, tenantID string, id domain.ResourceID, rawID, nodeID string) (domain.ComputeNode, error) {
	n, err := s.node(ctx, tenantID, id, rawID, nodeID)
	if err != nil {
		return domain.ComputeNode{}, err
	}
	if err := s.store.DeleteNode(ctx, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return domain.ComputeNode{}, fmt.Errorf("revoke node: %w", err)
	}
	return n, nil
}

// AuthenticateNode returns the node a presented secret belongs to, or
// ErrNodeUnauthorized. It reads the store on every call, so rotation and
// revocation take effect for the very next request.
func (s *Service) AuthenticateNode(ctx context.Context, secret string) (domain.ComputeNode, error) {
	nodeID, _, ok := strings.Cut(secret, ".")
	if !ok || len(secret) > 128 || uuid.Validate(nodeID) != nil {
		return domain.ComputeNode{}, ErrNodeUnauthorized
	}
	n, err := s.store.GetNode(ctx, strings.ToLower(nodeID))
	if errors.Is(err, store.ErrNotFound) {
		return domain.ComputeNode{}, ErrNodeUnauthorized
	}
	if err != nil {
		return domain.ComputeNode{}, fmt.Errorf("load node: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], n.SecretHash) != 1 {
		return domain.ComputeNode{}, ErrNodeUnauthorized
	}
	if !n.ExpiresAt.IsZero() && !s.now().Before(n.ExpiresAt) {
		return domain.ComputeNode{}, ErrNodeUnauthorized
	}
	return n, nil
}
