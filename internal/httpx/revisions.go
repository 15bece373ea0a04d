package httpx

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Revision headers give a client read-your-writes across replicas. Every
// response says which revision of the change feed the replica had applied
// when it answered (for a write: at least the revision the write committed
// at); a request that sends one of those back as MinRevisionHeader is
// answered only once the replica it reaches has applied that revision too,
// as SpiceDB's at_least_as_fresh and Zanzibar's zookies do.
const (
	RevisionHeader    = "x-ms-tessera-revision"
	MinRevisionHeader = "x-ms-tessera-min-revision"
)

// Revisions is what the headers are served from: the replica's change
// feed follower.
type Revisions interface {
	Applied() int64
	WaitFor(ctx context.Context, revision int64) error
}

// WithRevisions serves the revision headers around next. A request waits at
// most maxWait for its minimum revision, then gets 503 with Retry-After.
func WithRevisions(next http.Handler, revs Revisions, maxWait time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(MinRevisionHeader); v != "" {
			min, err := strconv.ParseInt(v, 10, 64)
			if err != nil || min < 0 {
				writeRevisionError(w, http.StatusBadRequest, "InvalidRevision",
					"The "+MinRevisionHeader+" header must be a revision number returned in "+RevisionHeader+".")
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), maxWait)
			err = revs.WaitFor(ctx, min)
			cancel()
			if err != nil {
				w.Header().Set("Retry-After", "1")
				writeRevisionError(w, http.StatusServiceUnavailable, "ReplicaNotCurrent",
					"This replica has not caught up with revision "+v+" yet. Retry the request.")
				return
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set(RevisionHeader, strconv.FormatInt(revs.Applied(), 10))
			next.ServeHTTP(w, r)
			return
		}
		// A write's own revision is applied by the time it answers, so the
		// value is read as the response starts.
		next.ServeHTTP(&revisionWriter{ResponseWriter: w, revs: revs}, r)
	})
}

type revisionWriter struct {
	http.ResponseWriter
	revs    Revisions
	written bool
}

func (rw *revisionWriter) stamp() {
	if !rw.written {
		rw.written = true
		rw.Header().Set(RevisionHeader, strconv.FormatInt(rw.revs.Applied(), 10))
	}
}

func (rw *revisionWriter) WriteHeader(code int) {
	rw.stamp()
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *revisionWriter) Write(b []byte) (int, error) {
	rw.stamp()
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (rw *revisionWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// writeRevisionError answers in the error envelope ARM and Graph share.
func writeRevisionError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
