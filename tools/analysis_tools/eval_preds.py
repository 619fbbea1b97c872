"""Score a folder of saved soft predictions (8-bit PNGs, as polyp papers publish them)
against a folder of masks with the polyp protocol, and print and write the table.

    python tools/analysis_tools/eval_preds.py PRED_DIR GT_DIR [--mask-dir DIR]
                                              [--out result.json] [--name NAME] [--per-image]

Predictions and masks pair by file stem. ``--out`` writes a JSON object of reference column
name (meanDic, meanIoU, wFm, Sm, meanEm, mae, maxEm, maxDic, maxIoU, meanSen, maxSen,
meanSpe, maxSpe) to value; with ``--per-image`` it also holds each image's scores.

Dice@0.5 and IoU@0.5 score the deployed masks, which a min-max normalised 8-bit map does not
determine: pass them with ``--mask-dir`` (0/255 PNGs, e.g. ``tools/infer.py``'s ``masks/``),
otherwise those two columns are left out. The scoring is kdas.evaluation.saved_predictions.
"""
import argparse
import json
import os.path as osp
import sys

from kdas.evaluation.protocol import aggregate
from kdas.evaluation.report import format_table
from kdas.evaluation.saved_predictions import pair_saved_predictions, score_saved_predictions
from kdas.utils.output_files import OutputError, ensure_output_dir, refuse_overwrite, write_text


def main(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate saved polyp predictions')
    parser.add_argument('pred_dir')
    parser.add_argument('gt_dir')
    parser.add_argument('--mask-dir', help='deployed 0/255 masks, for Dice@0.5 and IoU@0.5')
    parser.add_argument('--out', help='JSON file for the results')
    parser.add_argument('--name', help='dataset name in the table (default: GT_DIR name)')
    parser.add_argument('--per-image', action='store_true')
    parser.add_argument('--workers', type=int, default=1, help='parallel processes')
    args = parser.parse_args(argv)

    try:
        pairs = pair_saved_predictions(args.pred_dir, args.gt_dir, args.mask_dir)
        if args.out:
            refuse_overwrite(args.out, [p for _, files in pairs for p in files if p],
                             what='--out')
            ensure_output_dir(osp.dirname(osp.abspath(args.out)))
        scores = score_saved_predictions(pairs, args.workers)
    except (OSError, ValueError, OutputError) as err:
        sys.exit(f'error: {err}')

    name = args.name or osp.basename(osp.normpath(args.gt_dir))
    result = dict(images=len(pairs), **aggregate(scores))
    print(format_table({name: result}))
    if args.out:
        out = dict(result)
        if args.per_image:
            out['per_image'] = {s: sc.summary() for (s, _), sc in zip(pairs, scores)}
        try:
            write_text(args.out, json.dumps(out, indent=1), what='results')
        except OutputError as err:
            sys.exit(f'error: {err}')
        print(f'written to {args.out}')


if __name__ == '__main__':
    main()
