/**
 * One sentence per config option, keyed by its path in the reference (apps/mtl/CONFIG.md):
 * `*` for a name the user chooses, `[kind]` for one variant of a union, `[]` for list items; a key
 * with `[*]` covers that option in every variant that has it (an exact key wins). Kept apart
 * from the schemas so that adding an option and describing it are separate, conflict-free edits;
 * `npm run docs:config` fails, naming the path, when an option has no description here (or in
 * its schema's `.meta({ description })`) and when a key here names no option.
 * @example
 * CONFIG_DESCRIPTIONS['data.*[csv].delimiter']; // 'Cell delimiter, e.g. ";" or a tab ("\t"); default ",".'
 */
export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  seed: 'Seeds everything: data generation and splits, initialisation, shuffles, dropout, sampling. Same seed + same backend = identical scores.',
  backend:
    'tfjs backend: `auto` = tfjs-node if installed, else wasm, else cpu. `--backend` and `MTL_BACKEND` override it.',

  // ---- data ----
  data: 'The data sources, by name; the name is the dataset name in score keys (`task/dataset/split/metric`).',
  'data.*': 'One data source; its `kind` says which of the variants below applies.',
  'data.*[circle|square|inv_circle]':
    "Seed 003's toy tasks: points uniform in [-1, 1]², label 1 inside the circle x²+y² < r² (`circle`), the square |x|, |y| < r/2 (`square`) or outside the circle (`inv_circle`).",
  'data.*[circle|square|inv_circle].n': 'Points generated, before splitting.',
  'data.*[circle|square|inv_circle].radius':
    'The radius r of the circle (or twice the half-side of the square).',
  'data.*[circle|square|inv_circle].field':
    'Name of the input field (2 coordinates per row); default `<kind>_data`, e.g. `circle_data`. `mtl predict` reads it from the columns `<field>_0`, `<field>_1`.',
  'data.*[circle|square|inv_circle].label': 'Name of the label (class ids 0/1); default `<kind>_task`.',
  'data.*[*].splits':
    'Split ratios by split name, summing to 1; rows are assigned by a seeded shuffle. Toy sources default to `{train: 0.8, valid: 0.1, test: 0.1}`; for a file source they apply to `path` only (default the same ratios).',
  'data.*[*].seed':
    "Seed of this source's generation and split; default derived from the config's `seed` and the source name.",
  'data.*[*].taskNames':
    'Names of the generated tasks (default `task1`, `task2`, ...); each task is its own dataset `<name>Dataset` with a label named like it.',
  'data.*[logistic_tasks]':
    "The VMTL example's linked logistic-regression tasks (pairs 1-2, 3-4, ... have almost the same true weights; an odd last task is solo).",
  'data.*[logistic_tasks].tasks': 'Number of tasks.',
  'data.*[logistic_tasks].sizes': 'Examples per task: one number for all, or one per task.',
  'data.*[logistic_tasks].dim': 'Input dimension.',
  'data.*[logistic_tasks].testRatio': 'Share of each task held out as the `test` split; the rest is `train`.',
  'data.*[logistic_tasks].inputScale': 'Inputs are `inputScale · N(0, I)`.',
  'data.*[logistic_tasks].linkNoise':
    "The second task of a pair sees its partner's inputs plus `linkNoise · N(0, I)`.",
  'data.*[logistic_tasks].weightScale': 'Standard deviation of the true weights around their means.',
  'data.*[logistic_tasks].field':
    'Name of the input field (`dim` values per row). `mtl predict` reads it from the columns `<field>_0` ... `<field>_<dim-1>` (CSV) or the key `<field>` holding an array (JSONL).',
  'data.*[mmoe_synthetic]':
    "The MMoE paper's synthetic benchmark: two regression tasks (labels `y1`, `y2`) whose weight vectors have cosine `correlation`; y_i = w_i·x + Σ_j sin(a_j·w_i·x + b_j) + N(0, noiseVariance) (a_j = j, b_j = j² unless set), x ~ N(0, I).",
  'data.*[mmoe_synthetic].n': 'Rows before splitting.',
  'data.*[mmoe_synthetic].correlation':
    'The task correlation p in [-1, 1]: w1 = c·u1, w2 = c·(p·u1 + √(1 − p²)·u2) for orthogonal unit vectors u1, u2.',
  'data.*[mmoe_synthetic].dim': 'Input dimension d.',
  'data.*[mmoe_synthetic].weightScale': 'Norm c of the weight vectors w1, w2.',
  'data.*[mmoe_synthetic].sines': 'Number m of sine terms sin(a_j·w·x + b_j) (`alphas`, `betas`).',
  'data.*[mmoe_synthetic].alphas':
    "The a_j of the sine terms: a list of `sines` numbers, or `normal` for a draw from N(0, 1) fixed by the seed (keras-mmoe's demo). Default a_j = j.",
  'data.*[mmoe_synthetic].betas':
    'The b_j of the sine terms: a list of `sines` numbers, or `normal` (as `alphas`). Default b_j = j².',
  'data.*[mmoe_synthetic].noiseVariance':
    'Variance of the Gaussian noise added to each label (the paper: 0.01).',
  'data.*[mmoe_synthetic].field':
    'Name of the input field (`dim` values per row); `mtl predict` reads it from the columns `<field>_0` ... `<field>_<dim-1>`.',
  'data.*[mmoe_synthetic].labels':
    'Names of the two regression labels (and so, by default, of the tasks reading them).',
  'data.*[csv]': 'A CSV file (or one per split) with a header row; `fields` and `labels` map its columns.',
  'data.*[jsonl]':
    'A JSON Lines file (or one per split): one object per line; `fields` and `labels` map its keys.',
  'data.*[*].path':
    'One file, relative to the config file, split by the `splits` ratios. Give `path` or `files`.',
  'data.*[*].files':
    'One file per split, e.g. `{train: train.csv, valid: valid.csv, test: test.csv}`, relative to the config file. Give `path` or `files`.',
  'data.*[*].fields':
    'Input fields: field name -> one column (a scalar field) or a list of columns (a vector field, in that order). A JSONL key may also hold an array. `mtl predict` reads the same columns.',
  'data.*[*].fields.*':
    'One field: a column name, a list of columns (a vector field), a range `px0..px63` (a list may mix names and ranges), or `{column | prefix, kind, ...}`.',
  'data.*[*].fields.*.column': 'The column (or JSONL key) the field reads.',
  'data.*[*].fields.*.prefix':
    'Every column whose name starts with this, in file order (CSV header, or the keys of the first JSONL line): a vector field.',
  'data.*[*].fields.*.kind':
    '`number` (default), `categorical` (int32 ids from a vocabulary fitted on the train split; 0 = unknown) or `text` (lower-cased, whitespace-split word ids padded to `maxLength`, plus a `<field>_mask` field).',
  'data.*[*].fields.*.lowercase': 'Text fields: lower-case before splitting on whitespace; default true.',
  'data.*[*].fields.*.minCount':
    'Categorical and text fields: a value (word) seen fewer times than this in the train split maps to the unknown id; default 1.',
  'data.*[*].fields.*.maxSize':
    'Categorical and text fields: keep at most this many of the most frequent values (words) of the train split.',
  'data.*[*].fields.*.maxLength':
    'Text fields: words per row (longer rows are cut, shorter ones padded with 0); default the longest train row.',
  'data.*[*].scale':
    'Scaling per numeric field or regression label: `standard` (zero mean, unit variance per column), `minmax` (into [0, 1]) or `none`; fitted on the train split only, saved with the model, applied by `mtl score` and `mtl predict`; regression metrics and predictions stay in the original units.',
  'data.*[csv].labels':
    "Labels: label name -> its column, or `{column, kind, classes, numClasses}`. An empty cell (or -1) abstains: the row is left out of that label's loss and metrics.",
  'data.*[csv].labels.*':
    'One label: a column name (class ids, or numbers for a regression task), or the object form.',
  'data.*[csv].labels.*.column':
    'The column (or columns: one row of numbers, for `soft`, `multilabel` or `regression` labels).',
  'data.*[csv].labels.*.kind':
    'How cells are read: `class` (ids or `classes` names), `soft` (class probabilities), `multilabel` (0/1 per class), `regression` (numbers); inferred when left out.',
  'data.*[csv].labels.*.classes': 'Class names: a cell holding `classes[i]` becomes class id i.',
  'data.*[csv].labels.*.numClasses': 'Class count, for range checks; default the length of `classes`.',
  'data.*[csv].delimiter': 'Cell delimiter, e.g. ";" or a tab ("\\t"); default ",".',
  'data.*[vae_domains]':
    "Seeded multi-domain VAE data (@mtl/vae's makeVaeDomains): related domains x = s·tanh(A_t z + b_t) + noise from one shared latent z.",
  'data.*[vae_domains].tasks': 'Number of domains (tasks).',
  'data.*[vae_domains].dim': 'Observation dimension.',
  'data.*[vae_domains].latentDim': 'Dimension of the shared latent z.',
  'data.*[vae_domains].train': 'Training rows per domain: one number, or one per domain.',
  'data.*[vae_domains].valid': 'Validation rows per domain (0: no `valid` split).',
  'data.*[vae_domains].test': 'Test rows per domain.',
  'data.*[vae_domains].amplitude': 'Amplitude s of the observations.',
  'data.*[vae_domains].noise': 'Standard deviation of the observation noise.',
  'data.*[vae_domains].mapScale': "Standard deviation of the shared map's entries A.",
  'data.*[vae_domains].biasScale': "Standard deviation of the shared offset's entries b.",
  'data.*[vae_domains].taskSpread': "Standard deviation of each domain's perturbation of A and b.",
  'data.*[vae_domains].field':
    'Name of the input field (`dim` values per row); `mtl predict` reads it from the columns `<field>_0` ... (CSV) or the key `<field>` (JSONL).',
  'data.*[multifashion]':
    "MultiFashion, a two-task image set built as MultiMNIST is (@mtl/data's makeMultiFashion) from Debian's `dataset-fashion-mnist`: one Fashion-MNIST item at the top left of a 36 x 36 canvas, another item `shift` pixels right and down, overlaid with the pixel-wise maximum, area-resampled to `size` x `size`, values in [0, 1]. Labels `left` and `right` (10 classes each).",
  'data.*[multifashion].train': 'Training images, from the train pool of Fashion-MNIST train items.',
  'data.*[multifashion].valid':
    'Validation images (0: no `valid` split), from the valid pool: train items held out of the train pool (`validShare`).',
  'data.*[multifashion].test': "Test images (0: no `test` split), from Fashion-MNIST's test items.",
  'data.*[multifashion].size':
    'Side of the images after area resampling of the canvas: 18 = the mean of each 2 x 2 block; 36 keeps every pixel. The field holds `size · size` values per row.',
  'data.*[multifashion].shift':
    'Pixels the right item is shifted right and down from the left one; the canvas side is 28 + shift.',
  'data.*[multifashion].validShare': 'Share of the Fashion-MNIST train items held out as the valid pool.',
  'data.*[multifashion].field': 'Name of the input field (`size · size` pixel values per row, row-major).',
  'data.*[*].dir':
    "Folder of Fashion-MNIST's four IDX files (gzipped or not; relative to the config file); default `/usr/share/datasets/fashion-mnist`, where Debian's `dataset-fashion-mnist` installs them.",
  'data.*[fashion_domains]':
    "A few-shot multi-domain benchmark (@mtl/data's makeFashionDomains) from Debian's `dataset-fashion-mnist`: four domains, each the 10-class task on its own items (no item in two domains): `original`, `rotated` (90° counter-clockwise), `inverted` (1 - x) and `noisy` (fixed Gaussian noise per item). Each domain is a dataset `<domain>Dataset` with field `image` and a label named like the domain.",
  'data.*[fashion_domains].perClass': 'Labelled training images per class and domain (N).',
  'data.*[fashion_domains].validPerClass':
    'Validation images per class and domain, from train items (0: no `valid` split).',
  'data.*[fashion_domains].testPerClass':
    "Test images per class and domain, from Fashion-MNIST's test items.",
  'data.*[fashion_domains].size': 'Side of the images after area resampling (28: the original pixels).',
  'data.*[fashion_domains].noise':
    "Standard deviation of the `noisy` domain's additive Gaussian noise (on pixels in [0, 1], not clipped).",
  'data.*[fashion_domains].domains':
    "Which domains to make (default all four); a domain's images do not depend on this.",
  'data.*[fashion_domains].field': 'Name of the input field (`size · size` pixel values per row, row-major).',

  // ---- modules ----
  // A kind's own description comes from its registry entry (`ModuleKind.description`, on the schema).
  modules:
    'The module pool, by name. Tasks that use the same module name share that module and its weights. A vae model looks up a module it does not define under `model.modules` here; a vmtl model with `ops` takes its trunk from it.',
  'modules.*': 'One module; its `kind` says which of the variants below applies.',
  'modules.*[*].lr':
    "Learning-rate multiplier of this module's variables (× `training.lr` and its schedule), default 1; 0 holds the module still. Multitask models only.",
  'model[vae].modules.*[*].lr':
    'Not supported: learning-rate multipliers are for multitask models (refused at validate).',
  'modules.*[*].inputSize':
    "Size of the input's last axis (of the concatenated inputs when an operation passes several).",
  'modules.*[dense].units': 'Output size.',
  'modules.*[*].activation': 'Activation function; default `linear` for `dense`, `relu` for `mlp`.',
  'modules.*[dense].useBias': 'Add a bias; default true.',
  'modules.*[dense].kernelInit':
    'Weight initialiser: `glorotUniform` (default), `heUniform`, `torchUniform` (as PyTorch, biases too), `zeros`, `ones`, or `{uniform: a}` U(-a, a), `{normal: s}` N(0, s²), `{constant: c}`.',
  'modules.*[dense].kernelInit.uniform': 'U(-a, a) with this a.',
  'modules.*[dense].kernelInit.normal': 'N(0, s²) with this standard deviation s.',
  'modules.*[dense].kernelInit.constant': 'Every value equal to this constant.',
  'modules.*[conv2d].imageShape':
    '[height, width, channels] of one image: rows may come flat (image fields do) or shaped; optional for shaped rows.',
  'modules.*[conv2d].filters': 'Number of filters (output channels).',
  'modules.*[conv2d].kernelSize': 'Side of the square kernel; default 3. Stride 1.',
  'modules.*[conv2d].padding': '`same` (default: zero padding, output as large as the input) or `valid`.',
  'modules.*[conv2d].pool': 'Side of the non-overlapping max pooling after the activation; default 1 (none).',
  'modules.*[conv2d].flatten':
    'Return one vector per row (for a dense layer or a vmtl trunk); default false.',
  'modules.*[mlp].hidden':
    'Sizes of the hidden layers; each is followed by `activation` (and dropout when set).',
  'modules.*[mlp].outputSize': 'When set, a last dense layer of this size follows, with `outputActivation`.',
  'modules.*[mlp].outputActivation': 'Activation of the output layer; default `linear`.',
  'modules.*[mlp].dropout': 'Dropout rate after each hidden activation, in training only; default 0.',
  'modules.*[activation].fn': 'The function.',
  'modules.*[dropout].rate': 'Fraction of values zeroed in training.',
  'modules.*[layerNorm].size': 'Size of the normalised (last) axis.',
  'modules.*[layerNorm].epsilon': 'Added to the variance; default 1e-5.',
  'modules.*[layerNorm].affine': 'Learn a scale (ones) and a shift (zeros); default true.',
  'modules.*[embedding].vocabSize':
    'Number of ids; ids outside [0, vocabSize) (e.g. -1 padding) map to a zero vector.',
  'modules.*[embedding].dim': 'Size of each vector.',

  // ---- tasks ----
  tasks: 'The tasks, by name; the name is the task in score keys and `mtl predict --task`.',
  'tasks.*':
    'One task: which data it reads and its weight; for a multitask model also its path of operations through the module pool, its loss (`kind`) and metrics.',
  'tasks.*.data': 'The data source the task reads (a name under `data`).',
  'tasks.*.input':
    'Input field(s) of the source; default its only field. Several fields are passed to the first operation together.',
  'tasks.*.label':
    "Label of the source; default the label named like the task, else the source's only label.",
  'tasks.*.ops':
    'Operation sequence. A module name is shorthand for an operation reading the previous one (the first reads the input); the object form names its inputs. Required for a multitask model; a vmtl task with `ops` is deep VMTL (the ops are its trunk: module names, applied in order, then its latent and Bayesian classifier), without them the elementary Bayesian logistic regression; vae tasks have none (a vae task runs `model.encoder` and `model.decoder`).',
  'tasks.*.ops[].name': 'Name of this operation (default the module name), for later operations to read.',
  'tasks.*.ops[].module': 'The module this operation runs (a name under `modules`).',
  'tasks.*.ops[].inputs':
    'What the operation reads: `[_input_, FIELD]`, the name of an earlier operation, or `[OPERATION, KEY]` (a named output, or an index).',
  'tasks.*.kind':
    'The loss and prediction: `multiclass` (softmax cross-entropy), `binary` (one sigmoid output), `multilabel` (a sigmoid per class), `regression` (mean squared error). A vmtl task is a classifier over the classes of its label (binary without `ops`), or a regression for a regression label (with `ops`); a vae task reconstructs its input.',
  'tasks.*.metrics':
    'Metrics scored on every split: names from @mtl/scoring (`accuracy`, `f1`, `roc_auc`, `mse`, ...) or `{name, ...options}`; default accuracy (mse for regression). A vmtl model scores accuracy and loss, a vae model its ELBO terms.',
  'tasks.*.metrics[].name': 'The metric name; the other keys are its options, e.g. `{name: fbeta, beta: 2}`.',
  'tasks.*.weight': "Weight of this task's loss in the training objective.",
  'tasks.*.slices':
    "Slicing functions, by slice name: conditions on the source's fields or labels (as read, before scaling). The task is scored on each slice too: `task/dataset/split/slice:<name>:<metric>`.",
  'tasks.*.slices.*':
    'A condition: a test `{field | label, index?, length?, lt|le|gt|ge|eq|ne|in...}` (all its comparisons hold), or `{all: [...]}`, `{any: [...]}`, `{not: {...}}`.',
  'tasks.*.sliceAware':
    "Make the task slice-aware (Snorkel's SliceAwareClassifier): per slice (and the base slice of every row) an indicator task `<task>.ind.<slice>` and a predictor task `<task>.pred.<slice>` trained on the slice's rows, and an attention combiner before the task's head. `true` for every slice of `slices`, or options.",
  'tasks.*.sliceAware.slices': 'Which slices of `slices` get an indicator and a predictor; default all.',
  'tasks.*.sliceAware.expert':
    "Each slice's expert, a module config (a fresh copy per slice) that outputs rows as wide as the head's input; default a linear `dense` of that width.",
  'tasks.*.sliceAware.temperature': "τ of the combiner's attention softmax(q·c / τ); default 1.",
  'tasks.*.sliceAware.indicatorWeight': 'Loss weight of each slice indicator task; default 1.',
  'tasks.*.sliceAware.predictorWeight': 'Loss weight of each slice predictor task; default 1.',

  // ---- training ----
  training:
    "Everything @mtl/training's Trainer offers, plus how batches are drawn (`batchSize`, `scheduler`, `validSplit`).",
  'training.seed':
    "The trainer's seed (per-epoch shuffles and per-step seeds); the app derives it from the top-level `seed`.",
  'training.epochs': 'Passes over the training data.',
  'training.steps': 'When set, training stops after this many optimizer steps and `epochs` is ignored.',
  'training.lr': 'Learning rate (the schedule multiplies it).',
  'training.l2': 'Coupled L2: `0.5·l2·Σ‖w‖²` over all trainable variables is added to the loss.',
  'training.optimizer': 'The optimizer, chosen by `type`.',
  'training.optimizer[sgd]': 'Stochastic gradient descent.',
  'training.optimizer[*].momentum': 'Momentum factor.',
  'training.optimizer[sgd].nesterov': 'Nesterov momentum.',
  'training.optimizer[adam]': 'Adam.',
  'training.optimizer[*].beta1': 'Decay of the first-moment estimate.',
  'training.optimizer[*].beta2': 'Decay of the second-moment estimate.',
  'training.optimizer[*].epsilon': 'Added to the denominator for numerical stability.',
  'training.optimizer[adamw]': 'Adam with decoupled weight decay.',
  'training.optimizer[adamw].weightDecay': 'Decoupled weight decay per step (times the learning rate).',
  'training.optimizer[adamax]': 'Adamax (Adam with the infinity norm).',
  'training.optimizer[rmsprop]': 'RMSprop.',
  'training.optimizer[rmsprop].rho': 'Decay of the squared-gradient average.',
  'training.optimizer[rmsprop].centered': 'Divide by the centred (variance) estimate.',
  'training.lrSchedule':
    'Learning-rate schedule, chosen by `type`; every schedule may start with a linear warmup.',
  'training.lrSchedule[*].warmupSteps': 'Steps of linear warmup from 0 to the learning rate.',
  'training.lrSchedule[constant]': 'The learning rate stays `lr`.',
  'training.lrSchedule[linear]': 'Linear decay from `lr` to `lr · endFactor` at the end of training.',
  'training.lrSchedule[linear].endFactor': 'Factor reached at the last step.',
  'training.lrSchedule[exponential]': 'Multiplied by `gamma` every epoch (or step).',
  'training.lrSchedule[*].gamma': 'Multiplier applied at each decay.',
  'training.lrSchedule[*].unit': 'Whether decays count epochs or steps.',
  'training.lrSchedule[step]': 'Multiplied by `gamma` every `stepSize` epochs (or steps).',
  'training.lrSchedule[step].stepSize': 'Epochs (or steps) between decays.',
  'training.lrSchedule[cosine]': 'Cosine decay from `lr` to `lr · minFactor` over training.',
  'training.lrSchedule[cosine].minFactor': 'Factor reached at the last step.',
  'training.lrSchedule[plateau]': 'Multiplied by `factor` when `metric` stops improving.',
  'training.lrSchedule[plateau].metric': 'The score key watched, e.g. `model/all/valid/loss`.',
  'training.lrSchedule[plateau].mode':
    'Whether lower or higher is better; inferred from the metric name when left out.',
  'training.lrSchedule[plateau].factor': 'Multiplier applied on a plateau.',
  'training.lrSchedule[plateau].patience': 'Evaluations without improvement before the rate drops.',
  'training.lrSchedule[plateau].minDelta': 'Smallest change that counts as an improvement.',
  'training.lrSchedule[plateau].cooldown': 'Evaluations to wait after a drop before watching again.',
  'training.lrSchedule[plateau].minLr': 'The rate never drops below this.',
  'training.gradClipNorm': 'Clip gradients by their global norm to at most this value.',
  'training.accumulate':
    'Gradient accumulation: the optimizer steps every K batches with the mean of their gradients (of a gradient-level method: of its combined updates), and at an epoch end with the batches left. Steps (schedule, `steps`, `evalEvery`, checkpoints) count optimizer steps: ceil(batches per epoch / K) per epoch; checkpoints fall on step boundaries only.',
  'training.weighting':
    'How the per-task losses become one update: a weighting or gradient-aggregation method chosen by `method` (`mtl info` lists them), default `weightedSum` (Σ tasks.<t>.weight·loss). A gradient-level method needs every task in each step: `scheduler: mixed` (a vmtl step always has them).',
  'training.weighting[*].gradientOf':
    "Differentiate each task w.r.t. the shared `parameters` (default; one backward pass per task) or the shared `representation` (rep_grad: the outputs of the modules two or more tasks run, where the tasks diverge; one backward pass through the trunk; multitask models only). Task-owned modules always get their own task's gradient.",
  'training.weighting[*].preference':
    'How the balanced task gradients are combined: `mean`, `sum`, or one non-negative number per task (in task-name order).',
  'training.weighting[uncertainty].init': 'Starting log-variance of every task.',
  'training.weighting[imtlL].init': 'Starting log-scale of every task.',
  'training.weighting[dwa].temperature': 'Softmax temperature of the epoch-over-epoch loss ratios.',
  'training.weighting[famo].lr': "Learning rate of the Adam step on FAMO's task logits.",
  'training.weighting[famo].gamma': "Weight decay of FAMO's task logits.",
  'training.weighting[famo].eps': 'Added to each loss above its lower bound before the logarithm.',
  'training.weighting[famo].minLosses':
    'Per-task lower bound of the loss, in task-name order (default 0 for every task).',
  'training.weighting[mgda].normalize':
    'Gradient normalisation before the hull: none, by norm (`l2`), by loss (`loss`) or both (`loss+`).',
  'training.weighting[mgda].regEps':
    'Added to the diagonal of the normalised Gram matrix so the solver succeeds.',
  'training.weighting[mgdaUb].normalize':
    'Gradient normalisation before the hull: none, by norm (`l2`), by loss (`loss`) or both (`loss+`).',
  'training.weighting[mgdaUb].regEps':
    'Added to the diagonal of the normalised Gram matrix so the solver succeeds.',
  'training.weighting[graddrop].leak':
    'Fraction of every gradient let through regardless of its sign: one number, or one per task.',
  'training.weighting[gradvac].beta': 'Rate of the moving average of the target cosines.',
  'training.weighting[cagrad].c': 'Radius of the ball around the mean gradient, relative to its norm.',
  'training.weighting[cagrad].rescale': "Divide the update by 1 + c² (the paper's default).",
  'training.weighting[nashMtl].updateWeightsEvery':
    'Solve for new weights every this many steps; reuse them in between.',
  'training.weighting[nashMtl].regEps':
    'Added to the Gram matrix so dependent gradients keep finite weights.',
  'training.weighting[alignedMtl].scaleMode':
    'Scale of the aligned gradients: the smallest (`min`), median or root-mean-square eigenvalue.',
  'training.weighting[gradnorm].alpha':
    'Restoring force: how strongly slower tasks get larger gradient norms.',
  'training.weighting[gradnorm].lr': "Learning rate of the Adam step on GradNorm's task logits.",
  'training.weighting[dbMtl].beta': 'Base rate of the moving average of the log-loss gradients.',
  'training.weighting[dbMtl].betaSigma': 'The rate decays as beta / step^betaSigma.',
  'training.weighting[dbMtl].eps': 'Added to each loss before the logarithm.',
  'training.monitor': 'What is measured at each evaluation beside the scores.',
  'training.monitor.conflicts':
    "At each evaluation, the cosine and the norm ratio of every pair of tasks' gradients of the shared parameters on one fixed training batch, logged as `conflict/<a>/<b>/cosine` and `.../normRatio` in metrics.jsonl and written to conflict.json. Only with 2+ tasks sharing parameters and a validation split; costs about T+1 training steps per evaluation; training numbers are the same on or off.",
  'training.taskWeights':
    "Weight of each task's loss parts, by task name (default 1); a task's `weight` sets the same thing.",
  'training.evalEvery': 'Evaluate (and checkpoint) every this many epochs or steps (`evalUnit`).',
  'training.evalUnit': 'Whether `evalEvery` counts epochs or steps.',
  'training.checkpointMetric':
    'Score key that picks the best checkpoint, e.g. `model/all/valid/loss` or `circle_task/circleDataset/valid/accuracy`. A key that training never produces is an error before anything is written.',
  'training.checkpointMode':
    'Whether lower or higher is better; inferred from the metric name when left out (min for loss/error-like names).',
  'training.checkpointDir': 'Not allowed: checkpoints always go to RUN_DIR/checkpoints.',
  'training.restoreBest':
    'Put the best weights back at the end; default true when `checkpointMetric` is set.',
  'training.earlyStopping': 'Stop when a metric has not improved for `patience` evaluations.',
  'training.earlyStopping.patience': 'Evaluations without improvement before stopping.',
  'training.earlyStopping.minDelta': 'Smallest change that counts as an improvement.',
  'training.earlyStopping.metric': 'The score key watched; default `checkpointMetric`.',
  'training.earlyStopping.mode':
    'Whether lower or higher is better; inferred from the metric name when left out.',
  'training.batchSize': 'Rows per batch (per task sub-batch for VMTL).',
  'training.scheduler':
    'How batches of several tasks interleave: `shuffled` (random, in proportion to their batches), `sequential`, `roundRobin`, `mixed`. Not for vmtl, whose step always stacks one sub-batch of every task.',
  'training.shuffle':
    "Reshuffle each train loader's rows every epoch (from the seed); `false` reads them in file order, as Snorkel's tutorial does. Evaluation never shuffles.",
  'training.validSplit': 'The split evaluated during training (exact name).',

  // ---- model ----
  model:
    'The model kind and its options; left out, a multitask model. The kind also decides which task, training and `modules` options the config may have (the *model kinds* column).',
  'model[multitask]': 'Tasks as paths through the shared module pool (the default).',
  'model[vmtl]':
    "Variational multitask learning: Bayesian logistic regression per task, each task's prior a Gumbel-softmax mixture of the other tasks' posteriors (see @mtl/variational).",
  'model[vmtl].prior':
    '`mixture` = VMTL; `standardNormal` = the solo baseline (fixed N(0, I) prior, no mixing).',
  'model[vmtl].classifierSamples': 'Monte Carlo samples of the classifier weights per step.',
  'model[vmtl].latentSamples': 'Monte Carlo samples of the latent representation per step.',
  'model[vmtl].klSamples': "Samples for the mixture KL's Monte Carlo estimator.",
  'model[vmtl].classifierKl':
    "Estimator of the KL to the mixture prior: `upperBound` (Jensen, the default), `monteCarlo`, `momentMatched` (N(Σ α μ, Σ α² σ²), the paper code), `momentMatchedMixture` (the Gaussian with the mixture's mean and variance).",
  'model[vmtl].detachPrior': "Stop the gradient through the other tasks' posteriors in a task's prior.",
  'model[vmtl].temperature':
    'Gumbel-softmax temperature of the mixing weights: a number, or a schedule `{kind: constant | inverseSqrt | exponential}`; default exponential 1 -> 0.5.',
  'model[vmtl].temperature[constant]': 'A fixed temperature.',
  'model[vmtl].temperature[constant].value': 'The temperature.',
  'model[vmtl].temperature[inverseSqrt]': 'initial / sqrt(1 + step), not below `floor`.',
  'model[vmtl].temperature[*].initial': 'Temperature at step 0.',
  'model[vmtl].temperature[*].floor': 'The temperature never goes below this.',
  'model[vmtl].temperature[exponential]': 'initial · exp(-rate · step), not below `floor`.',
  'model[vmtl].temperature[exponential].rate': 'Decay rate per step.',
  'model[vmtl].klWeight': 'Weight of the KL terms in the ELBO.',
  'model[vmtl].gumbelNoise': 'Add Gumbel noise to the mixing logits in training.',
  'model[vmtl].mixingInit': 'Initial value of the mixing logits; default uniform mixing weights.',
  'model[vmtl].predictiveSamples': 'Samples of the posterior predictive at evaluation and prediction.',
  'model[vmtl].latentDim':
    "Deep VMTL (tasks with `ops`): dimension of the per-task Gaussian latent z, whose prior is the β mixture of the other tasks' encoders on the same features; 0 (default): no latent.",
  'model[vmtl].latentKl':
    'Deep VMTL: estimator of KL(q(z | x) || β mixture), as `classifierKl`; default `momentMatched` (the paper code).',
  'model[vmtl].latentStandardWeight':
    "Deep VMTL: weight λ of an N(0, I) component in the latent prior, λ·N(0, I) + (1 - λ)·β mixture; it anchors the latents' scale, which the paper's prior alone (0, default) does not.",
  'model[vmtl].classifierStandardComponent':
    "Deep VMTL: true puts an N(0, I) component in task t's own slot of its classifier prior, weighed by α's diagonal and learned like the other weights, so a task that resembles none of the others can fall back to the solo prior; default false (the paper's prior: α's rows sum to 1 over the other tasks, which pulls such a task towards the least unlike one).",
  'model[vmtl].latentPriorInputs':
    "Deep VMTL: what the β prior's components encode: `sameInput` (default), the other tasks' encoders on the row itself; `sameClass` (the paper code), each other task's encoding of one of its own rows of the row's class in the step.",
  'model[vmtl].shareLatent':
    "Deep VMTL: one latent encoder for all tasks (the paper code's shared encoder); needs latentPriorInputs sameClass. Default false: one per task.",
  'model[vmtl].shareTrunk':
    'Deep VMTL: true: every task runs the same trunk modules; false: each task its own copy (frozen `layers` modules stay shared). Default: shared with `prior: mixture`, copied with `standardNormal` (the solo baseline); `standardNormal` with `shareTrunk: true` is a shared trunk under N(0, I) classifier priors.',
  'model[vmtl].classifierKlWeight':
    'Deep VMTL: weight of the classifier KL (default `klWeight`): a number or a linear ramp (annealing, as the paper code).',
  'model[vmtl].latentKlWeight': 'Deep VMTL: weight of the latent KL per example: a number or a linear ramp.',
  'model[vmtl].classifierKlWeight.kind':
    'A linear ramp: from + (to - from) · min(1, (step - delay) / steps).',
  'model[vmtl].classifierKlWeight.from': 'Weight at step `delay` (default 0).',
  'model[vmtl].classifierKlWeight.to': 'Weight after `delay + steps` steps (default 1).',
  'model[vmtl].classifierKlWeight.steps': 'Length of the ramp in steps.',
  'model[vmtl].classifierKlWeight.delay': 'Steps at `from` before the ramp (default 0).',
  'model[vmtl].predictWith':
    "Deep VMTL: `predictive` (the Monte Carlo posterior predictive over `predictiveSamples` joint draws of z and w) or `posteriorMean` (z = E[z | x], w = E[w], the paper's test time).",
  'model[vmtl].classifierLogScaleInit':
    'Deep VMTL: initial log standard deviation of the classifier weights (default -3).',
  'model[vmtl].latentLogScaleInit': "Deep VMTL: initial bias of the latent's log-scale head (default -2).",
  'model[vae]':
    'Multitask VAEs whose tasks share encoder and decoder modules by name (see @mtl/vae and examples/mt-vae.md).',
  'model[vae].modules':
    "Module templates by name: @mtl/vae's kinds below or any kind of the `modules` section (a name not found here is looked up in the top-level `modules`).",
  'model[vae].modules.*': 'One module; its `kind` says which of the variants applies.',
  'model[vae].modules.*[gaussianEncoder].inputSize': 'Dimension of x.',
  'model[vae].modules.*[gaussianEncoder].hidden':
    'Hidden layers of the trunk, each followed by `activation` (default none: linear heads on the input).',
  'model[vae].modules.*[gaussianEncoder].latentSize': 'Dimension of the latent z.',
  'model[vae].modules.*[gaussianEncoder].activation': 'Activation of the hidden layers; default `tanh`.',
  'model[vae].modules.*[gaussianEncoder].logScaleInit':
    'Initial bias of the log-scale head (default 0: the posteriors start with scale about 1).',
  'model[vae].modules.*[vaeDecoder].inputSize':
    "Size of the input's last axis (the latent size, or the width of a trunk before it).",
  'model[vae].modules.*[vaeDecoder].hidden':
    'Hidden layers, each followed by `activation` (default none: a linear map).',
  'model[vae].modules.*[vaeDecoder].outputSize': 'Dimension of x.',
  'model[vae].modules.*[vaeDecoder].activation': 'Activation of the hidden layers; default `tanh`.',
  'model[vae].modules.*[vaeDecoder].likelihood': '`gaussian` (default) or `bernoulli`.',
  'model[vae].modules.*[vaeDecoder].scaleMode': 'Gaussian only: `learned` (default) or `fixed` σ.',
  'model[vae].modules.*[vaeDecoder].scale':
    'Gaussian only: the fixed σ, or the initial σ of a learned scale (default 1).',
  'model[vae].modules.*[vectorQuantizer].numEmbeddings': 'K, the number of codebook vectors.',
  'model[vae].modules.*[vectorQuantizer].embeddingDim':
    "D, the size of each vector (the encoder's output size).",
  'model[vae].modules.*[vectorQuantizer].commitmentCost':
    'β of the commitment loss β‖z_e − sg(e)‖² (default 0.25).',
  'model[vae].encoder':
    'Module chain x -> q(z | x): the last returns {loc, logScale} (or z_e with a quantizer).',
  'model[vae].decoder':
    'Module chain z -> p(x | z): the last is a vaeDecoder (or returns {loc, logScale} / {logits}).',
  'model[vae].quantizer': 'A vectorQuantizer module: a VQ-VAE latent.',
  'model[vae].perTask':
    'Modules copied once per task (named `<task>.<module>`); every other module is shared by all tasks.',
  'model[vae].prior':
    "`standardNormal` N(0, I), or `mixture`: each task's prior mixes the other tasks' posteriors.",
  'model[vae].beta': 'KL weight: a number, or a schedule `{kind: constant | linear}` (KL annealing).',
  'model[vae].beta[constant]': 'A fixed weight.',
  'model[vae].beta[constant].value': 'The weight.',
  'model[vae].beta[linear]': 'From `from` to `to` over `steps` steps, after `delay` steps at `from`.',
  'model[vae].beta[linear].from': 'Weight at the start.',
  'model[vae].beta[linear].to': 'Weight at the end.',
  'model[vae].beta[linear].steps': 'Steps of the ramp.',
  'model[vae].beta[linear].delay': 'Steps at `from` before the ramp.',
  'model[vae].latentSamples': 'Latent draws per row in training.',
  'model[vae].evalSamples': 'Latent draws per row for the scores (neg_elbo, recon_nll).',
  'model[vae].activeUnitThreshold':
    'A latent unit counts as active when the variance of its posterior mean exceeds this.',
  'model[vae].mixture': 'Options of the `mixture` prior.',
  'model[vae].mixture.gumbelNoise': 'Add Gumbel noise to the mixing logits in training.',
  'model[vae].mixture.init': 'Initial value of the mixing logits; default uniform mixing weights.',
  'model[vae].mixture.estimator':
    'Estimator of the KL to the mixture prior: `monteCarlo` (default), `upperBound`, `momentMatched`.',
  'model[vae].mixture.klSamples': "Samples for the mixture KL's Monte Carlo estimator.",
  'model[vae].mixture.detachPrior':
    "Stop the gradient through the other tasks' posteriors in a task's prior.",
  'model[vae].mixture.standardWeight':
    'Weight λ of N(0, I) in the prior λ·N(0, I) + (1 − λ)·Σ β q_other(z | x); with 0 nothing anchors the latents.',
};
