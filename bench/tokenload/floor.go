package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/rsasign"
)

// The floor signs with internal/rsasign, the implementation the server
// signs tokens with (-signing-backend picks it as the server's
// --signing-backend does), so that the ratio compares like with like.

// floorSigners are the signer of the floor and, when it is not Go's
// crypto/rsa, a Go signer of the same key for a reference figure.
type floorSigners struct {
	sig   *rsasign.Signer
	goRef *rsasign.Signer // nil when sig is Go's crypto/rsa already
}

// newFloorSigners generates a 2048-bit key and prepares its signers.
func newFloorSigners(backend rsasign.Backend) (floorSigners, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return floorSigners{}, err
	}
	pub := &jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	sig, err := rsasign.New(key, pub, backend)
	if err != nil {
		return floorSigners{}, err
	}
	goSig, err := rsasign.New(key, pub, rsasign.Go)
	if err != nil {
		return floorSigners{}, err
	}
	f := floorSigners{sig: sig}
	if sig.Backend() != goSig.Backend() {
		f.goRef = goSig
	}
	return f, nil
}

// goReference measures the Go crypto/rsa multi-core rate once (1 s) when
// the floor's backend is another one, into res.FloorGo.
func (f floorSigners) goReference(procs int, res *Result) {
	if f.goRef != nil {
		res.FloorGo = signRate(f.goRef, procs, time.Second).rate
	}
}

// floorPayload stands for a token's JWS signing input
// (base64url(header) "." base64url(claims), ≈ 900 bytes), hashed and
// signed per signature as the server does.
var floorPayload = bytes.Repeat([]byte("eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9."), 18)[:900]

// floorSample is one measurement of the RS256 floor.
type floorSample struct {
	n, wall float64 // signatures, seconds
	rate    float64 // signatures per second
	perCPU  float64 // signatures per CPU-second of this process (0 without /proc)
	other   float64 // cores other processes used meanwhile
}

// signRate measures RS256 signatures per second of s on procs goroutines,
// with GOMAXPROCS raised to procs meanwhile.
func signRate(s *rsasign.Signer, procs int, d time.Duration) floorSample {
	prev := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(prev)
	var count atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), sampleCPU(0)
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for !stop.Load() {
				if _, err := s.SignPayload(floorPayload, jose.RS256); err != nil {
					panic(fmt.Sprintf("floor signature (%s): %v", s.Backend(), err))
				}
				n++
			}
			count.Add(n)
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	n, wall := float64(count.Load()), time.Since(start).Seconds()
	f := floorSample{n: n, wall: wall, rate: n / wall}
	if u := sampleCPU(0).since(cpu0); u.ok && u.self > 0 {
		f.perCPU, f.other = n/(u.self*wall), u.other
	}
	return f
}
