package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/internal/app"
)

// tenantCommand changes tenant settings in the data directory's store (an
// operator verb like keys rotate: Graph has no property for them). A
// running server reads the settings fresh where they decide a grant.
func tenantCommand() *cobra.Command {
	tenant := &cobra.Command{Use: "tenant", Short: "Show and change tenant settings"}
	var f serverFlags
	var allowROPC bool
	update := &cobra.Command{
		Use:   "update",
		Short: "Change tenant settings (--allow-ropc)",
		Long: `Changes settings of every tenant in the store (Tessera serves one home tenant per data directory).

  --allow-ropc=true   allow the resource owner password grant (tessera login -u/-p, az login -u -p,
                      UsernamePasswordCredential): meant for test automation; off by default.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("allow-ropc") {
				return fmt.Errorf("nothing to change: pass --allow-ropc=true or --allow-ropc=false")
			}
			cfg, err := f.load(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, cfg, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.ListTenants(ctx)
			if err != nil {
				return err
			}
			sort.Slice(ts, func(i, j int) bool { return ts[i].CreatedAt.Before(ts[j].CreatedAt) })
			out := []map[string]any{}
			for _, t := range ts {
				t.Settings.AllowROPC = allowROPC
				if err := st.UpdateTenant(ctx, t); err != nil {
					return err
				}
				out = append(out, map[string]any{"tenantId": t.ID, "settings": t.Settings})
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	f.bind(update)
	update.Flags().BoolVar(&allowROPC, "allow-ropc", false, "allow the resource owner password credentials grant")
	tenant.AddCommand(update)
	return tenant
}
