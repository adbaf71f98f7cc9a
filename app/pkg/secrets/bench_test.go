package secrets_test

import (
	"context"
	"testing"

	"github.com/cityops/cityops/app/pkg/testvault"
)

// BenchmarkSign measures signing a typical CloudEvents envelope (~1 KiB)
// with each implementation: the local store signs in process; Vault does an
// HTTP round trip to Transit per signature. Sequential is the latency one
// relay worker sees; parallel the throughput of many.
func BenchmarkSign(b *testing.B) {
	msg := make([]byte, 1024)
	for _, impl := range implementations {
		m := impl.open(b)
		key := "tenant-" + testvault.Unique(b)
		if err := m.CreateKey(context.Background(), key); err != nil {
			b.Fatal(err)
		}
		b.Run(impl.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := m.Sign(ctx, key, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
		})
		b.Run(impl.name+"-parallel", func(b *testing.B) {
			ctx := context.Background()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Sign(ctx, key, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
		})
	}
}

// BenchmarkVerify measures verifying a valid signature: both
// implementations verify in process (Vault against cached public keys).
func BenchmarkVerify(b *testing.B) {
	msg := make([]byte, 1024)
	for _, impl := range implementations {
		m := impl.open(b)
		ctx := context.Background()
		key := "tenant-" + testvault.Unique(b)
		if err := m.CreateKey(ctx, key); err != nil {
			b.Fatal(err)
		}
		sig, err := m.Sign(ctx, key, msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := m.Verify(ctx, key, msg, sig); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
		})
	}
}
