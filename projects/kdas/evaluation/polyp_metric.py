"""MMEngine metric of the polyp evaluation protocol, per dataset, in one table."""
import os.path as osp
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.registry import METRICS

from .protocol import aggregate, score_image, to_8bit_prediction
from .report import format_table, write_reports


@METRICS.register_module()
class PolypMetric(BaseMetric):
    """Every column of the published polyp protocol (see :mod:`kdas.evaluation.protocol`)
    per dataset.

    Each prediction's probability map (``seg_logits``: mmseg's ``postprocess_result``
    resizes a one-channel logit map to the mask's own resolution and applies the sigmoid)
    goes through min-max normalisation and 8-bit quantisation, as the published pipeline
    saves it, and is scored against the binarised mask. Dice@0.5 / IoU@0.5 score the
    deployed mask, ``pred_sem_seg``. Images are grouped by the ``dataset_name`` their dataset gives them
    (keep ``'dataset_name'`` in ``PackSegInputs``' ``meta_keys``), so a concatenation of
    test sets evaluates in one run and reports one row per set.

    Returned keys are ``'{dataset}/{column}'`` with the reference's column names, plus
    ``'mDice'``, ``'mIoU'`` and ``'MAE'`` averaged over the datasets (for ``save_best``).

    Args:
        output_dir (str, optional): Where to write ``polyp_metrics.{json,csv,md}``.
        per_image (bool): Also keep and write per-image scores.
        all_columns (bool): Print every column (the files always hold every column);
            by default the log shows mDice, mIoU, wFm, Sm, meanEm, MAE and Dice@0.5.
    """
    default_prefix = ''

    def __init__(self, output_dir: Optional[str] = None, per_image: bool = False,
                 all_columns: bool = False, collect_device='cpu', prefix=None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.output_dir = output_dir
        self.per_image = per_image
        self.all_columns = all_columns

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            # mmseg's postprocess_result has already resized a one-channel map to the
            # image's original size and passed it through the sigmoid: these are
            # probabilities, and pred_sem_seg is the deployed mask (prob > threshold).
            prob = sample['seg_logits']['data'].float()
            if prob.shape[0] != 1:
                raise ValueError('PolypMetric needs one-channel logits (out_channels=1), '
                                 f'got {prob.shape[0]} channels')
            prob = prob[0].cpu().numpy()
            if prob.min() < 0 or prob.max() > 1:
                raise ValueError(
                    f'{sample.get("img_path")}: seg_logits holds values in [{prob.min():.3g}, '
                    f'{prob.max():.3g}], not probabilities; PolypMetric expects mmseg\'s '
                    'postprocess_result output of a one-channel (sigmoid) head')
            mask = sample['pred_sem_seg']['data'][0].cpu().numpy().astype(bool)
            gt = sample['gt_sem_seg']['data'][0].cpu().numpy()
            if gt.shape != prob.shape:
                raise ValueError(f'{sample.get("img_path")}: prediction {prob.shape} and mask '
                                 f'{gt.shape} differ; the test pipeline must load masks at '
                                 'their own resolution (LoadPolypAnnotation after Resize)')
            scores = score_image(to_8bit_prediction(prob), gt.astype(bool), mask=mask)
            name = sample.get('dataset_name') or 'dataset'
            image = osp.splitext(osp.basename(sample.get('img_path', '')))[0]
            self.results.append((name, image, scores))

    def compute_metrics(self, results: list) -> dict:
        groups = OrderedDict()
        for name, image, scores in results:
            groups.setdefault(name, []).append((image, scores))
        table = OrderedDict()
        for name, items in groups.items():
            table[name] = dict(images=len(items), **aggregate(s for _, s in items))
        print_log('\n' + format_table(table, all_columns=self.all_columns),
                  logger=MMLogger.get_current_instance())
        per_image = None
        if self.per_image:
            per_image = {
                name: {image: scores.summary() for image, scores in items}
                for name, items in groups.items()
            }
        if self.output_dir:
            paths = write_reports(table, self.output_dir, per_image=per_image)
            print_log(f'polyp metrics written to {", ".join(paths.values())}',
                      logger=MMLogger.get_current_instance())
        metrics = {f'{name}/{col}': value for name, row in table.items()
                   for col, value in row.items() if col != 'images'}
        for key, col in (('mDice', 'meanDic'), ('mIoU', 'meanIoU'), ('MAE', 'mae')):
            metrics[key] = float(np.mean([row[col] for row in table.values()]))
        return metrics
