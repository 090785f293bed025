/** params.yaml section `report:` — plot and table settings; they enter only the report's key. */
import { z } from 'zod';
import { FIGURES, TABLE_GROUPS, type ReportOptions } from '../../science/report/options.ts';

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is "#rrggbb"');

export const reportParams = z
  .object({
    dir: z
      .string()
      .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, 'a folder relative to the project root, without ".."')
      .describe(
        "Folder the report is published to, relative to the project root (reports for the committed report, reports/quick for params.quick.yaml): each params file gets its own, so two profiles never overwrite each other. Publishing removes only files this folder's earlier report had.",
      ),
    main_k: z
      .number()
      .int()
      .min(2)
      .describe('Number of clusters of Table 1, Tables 2–4, A.4–A.17 and Figures 2–4, A.1–A.5 (the paper: 4). Must be in cluster.k to have data.'),
    alpha: z
      .number()
      .gt(0)
      .lt(1)
      .describe(
        'Significance level of `pipeline.ts diff`: a changed metric is "within noise" when Welch\'s t-test is not significant at this false-discovery rate after Benjamini–Hochberg over its table.',
      ),
    tables: z
      .array(z.enum(TABLE_GROUPS))
      .describe(
        'Which tables to render: clusterability (Table 1, A.1–A.3 and any other k), clusterability_nonzero (their layer_nonzero twins), random_data (Tables 2–4), per_network (A.4–A.15), mixtures (A.16–A.17), lesion_single (A.18), lesion_dependencies (A.19).',
      ),
    figures: z.array(z.enum(FIGURES)).describe('Which figures to render (fig-A2-A5 is the four violin figures).'),
    datasets: z
      .object({
        random: z.string().describe('Dataset name of the unlearnable random-data experiment (Table 2).'),
        kilo_epoch: z.string().describe('Dataset name under which the kilo-epoch random-data networks are trained (Table 3).'),
        memorization: z.string().describe('Dataset name of the memorization experiment (Table 4).'),
      })
      .strict()
      .describe('Which `dataset` axis values Tables 2–4 read.'),
    notes: z
      .string()
      .min(1)
      .nullable()
      .describe(
        'A Markdown file (path from the project root) written by whoever ran the experiment — how long each stage took, what was measured, why results differ from the paper — embedded in reports/README.md under "About this run". Its content enters the report key. null: no such section.',
      ),
    representative_run: z.number().int().min(0).describe('Run shown in Figure 4 (one network per dataset × dropout).'),
    violin_dataset: z.string().describe('Dataset of the per-network violin plots, Figures A.2–A.5 (the paper: mnist).'),
    lesion_network: z
      .object({
        dataset: z.string().describe('Dataset of the lesioned network.'),
        dropout: z.boolean().describe('Whether it was trained with dropout.'),
        run: z.number().int().min(0).describe('Its run.'),
      })
      .strict()
      .describe('The lesioned network of Tables A.18–A.19 and Figures 5–6 (the paper: fashion, dropout; must be one of lesion.networks).'),
    figure_1: z
      .object({
        dataset: z.string().describe('Dataset of the network drawn.'),
        dropout: z.boolean().describe('Whether it was trained with dropout.'),
        run: z.number().int().min(0).describe('Its run.'),
        edge_share: z.number().gt(0).max(1).describe("Share of each layer's non-zero weights drawn, the heaviest first (e.g. 0.02)."),
      })
      .strict()
      .describe('Figure 1: the pruned network drawn split into its modules at main_k (the paper: a Fashion-MNIST network trained with dropout).'),
    colors: z
      .object({
        unpruned: colour.describe('Figure 2: networks before pruning, without dropout.'),
        unpruned_dropout: colour.describe('Figure 2: before pruning, with dropout.'),
        pruned: colour.describe('Figure 2: after pruning, without dropout.'),
        pruned_dropout: colour.describe('Figure 2: after pruning, with dropout.'),
        layer: colour.describe('`layer` shuffle distributions (Figures 3, 4, A.2–A.5).'),
        layer_nonzero: colour.describe('`layer_nonzero` shuffle distributions.'),
        actual: colour.describe("Marks of the real networks' n-cuts."),
        taxonomy: z.record(z.string(), colour).describe('Figure 5: colour of each lesion category (important, sig-but-not-diff, small, other, ...).'),
      })
      .strict()
      .describe('Figure colours.'),
    panel: z
      .object({
        width: z.number().int().min(50).describe('Width of one plot panel in pixels.'),
        height: z.number().int().min(50).describe('Height of one plot panel in pixels.'),
      })
      .strict()
      .describe('Size of one plot panel.'),
  })
  .strict()
  .describe('The report stage: which tables and figures, plot settings, and the significance level of `diff`.');

export type ReportParams = z.infer<typeof reportParams>;

// The schema must produce exactly what the science expects.
const _check: (p: ReportParams) => ReportOptions = (p) => p;
void _check;
