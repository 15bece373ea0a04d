package store

import (
	"context"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// Nodes stores the registered nodes of ML computes and the hashes of their
// secrets. Node ids are GUIDs compared exactly; compute ids are ARM ids
// compared case-insensitively. The store checks no references: whether the
// compute exists is decided above it.
type Nodes interface {
	// CreateNode fails with ErrConflict on a duplicate id.
	CreateNode(ctx context.Context, n domain.ComputeNode) error
	GetNode(ctx context.Context, id string) (domain.ComputeNode, error)
	// ListNodes returns the nodes of one compute (none, not ErrNotFound, for
	// an unknown compute).
	ListNodes(ctx context.Context, computeID string) ([]domain.ComputeNode, error)
	// UpdateNodeSecret replaces a node's SecretHash and RotatedAt, leaving
	// every other field; ErrNotFound when the node does not exist. The old
	// hash stops matching as soon as the write returns.
	UpdateNodeSecret(ctx context.Context, id string, secretHash []byte, rotatedAt time.Time) error
	// DeleteNode deletes one node; ErrNotFound when absent.
	DeleteNode(ctx context.Context, id string) error
	// DeleteNodeTree deletes the nodes of the compute resourceID and of every
	// compute whose id starts with resourceID followed by "/" (a deleted
	// workspace takes its computes' nodes along), returning how many it
	// deleted; none is not an error.
	DeleteNodeTree(ctx context.Context, resourceID string) (int64, error)
}
