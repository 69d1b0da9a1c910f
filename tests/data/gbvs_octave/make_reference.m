% make_reference(toolbox, out_dir, dump, img1, img2, ...)
%
% dump: 0 maps only, 1 maps and intermediates, 2 maps of the Itti-Koch variant (makeGBVSParams
% with useIttiKochInsteadOfGBVS = 1, nothing else changed).
%
% Runs Harel's GBVS toolbox (gbvs.m, makeGBVSParams defaults) under GNU Octave on each image and
% saves, per image, <out_dir>/<name>.mat (MAT 5, readable by scipy.io.loadmat) with
%   master_map, master_map_resized, elapsed and cpu (wall and CPU seconds of the gbvs() call alone)
% and, when dump is 1, the intermediate arrays (flat names, 1-based channel/type/level numbers):
%   img_<c>_<lev>       the image pyramid (c = L intensity max(r,g,b), R, G, B), from mySubsample
%   raw_<ch>_<t>_<lev>  a channel's feature map at its pyramid level (rawfeatmaps.*.maps.origval)
%   val_<ch>_<t>_<lev>  the same resized to salmapsize (rawfeatmaps.*.maps.val)
%   act_<ch>_<t>_<lev>  graph-based activation (graphsalapply algtype 2), before any mat2gray
%   iters_<ch>_<t>_<lev> power-iteration count of that activation
%   feat_<ch>           the channel's summed, normalized maps (out.top_level_feat_maps, mat2gray'd)
%   D (the graph's squared-distance matrix from initcache or graphsalinit), gabor_<angle>_<phase>
% <ch> is the channel's field name (dklcolor, intensity, orientation).
%
% The toolbox's mex files must be compiled for Octave first (see README.md here).

function make_reference(toolbox, out_dir, dump, varargin)
  pkg load image
  pkg load statistics
  old = pwd;
  cd(toolbox);
  pathroot = pwd; save('-mat', 'util/mypath.mat', 'pathroot');
  addpath(genpath(pwd), '-begin');
  cd(old);
  if ~exist(out_dir, 'dir'), mkdir(out_dir); end
  for k = 1:numel(varargin)
    file = varargin{k};
    [~, name] = fileparts(file);
    img = imread(file);
    if dump == 2
      param = makeGBVSParams; param.useIttiKochInsteadOfGBVS = 1;
      c0 = cputime; tic; out = gbvs(img, param); elapsed = toc; cpu = cputime - c0;
    else
      c0 = cputime; tic; out = gbvs(img); elapsed = toc; cpu = cputime - c0;
    end
    s = struct();
    s.master_map = out.master_map;
    s.master_map_resized = out.master_map_resized;
    s.elapsed = elapsed;
    s.cpu = cpu;
    if dump == 1
      s = add_intermediates(s, img, out);
    end
    save('-v7', fullfile(out_dir, [name '.mat']), '-struct', 's');
    printf('%s: %d x %d -> %d x %d map, %.3f s\n', name, size(img,1), size(img,2), ...
           size(out.master_map,1), size(out.master_map,2), elapsed);
  end
end

function s = add_intermediates(s, img, out)
  param = out.paramsUsed;
  x = double(img) / 255;
  if size(x,3) == 3
    [r, g, b, ii] = mygetrgb(x);
    pyr = {ii, r, g, b}; names = 'LRGB';
  else
    pyr = {x}; names = 'L';
  end
  for c = 1:numel(pyr)
    m = pyr{c};
    for lev = 1:param.maxcomputelevel
      m = mySubsample(m);
      s.(sprintf('img_%s_%d', names(c), lev)) = m;
    end
  end
  [grframe, param2] = initGBVS(param, size(img));
  s.D = grframe.D;
  for i = 1:numel(param.gaborangles)
    s.(sprintf('gabor_%d_0', param.gaborangles(i))) = param.gaborFilters{i}.g0;
    s.(sprintf('gabor_%d_90', param.gaborangles(i))) = param.gaborFilters{i}.g90;
  end
  chans = fieldnames(out.rawfeatmaps);
  for ci = 1:numel(chans)
    obj = out.rawfeatmaps.(chans{ci});
    for t = 1:obj.info.numtypes
      for lev = 1:numel(obj.maps.val{t})
        if isempty(obj.maps.val{t}{lev}), continue; end
        tag = sprintf('%s_%d_%d', chans{ci}, t, lev);
        s.(['raw_' tag]) = obj.maps.origval{t}{lev};
        s.(['val_' tag]) = obj.maps.val{t}{lev};
        if any(param.levels == lev)
          [a, iters] = graphsalapply(obj.maps.val{t}{lev}, grframe, param.sigma_frac_act, 1, 2, param.tol);
          s.(['act_' tag]) = a;
          s.(['iters_' tag]) = iters;
        end
      end
    end
    s.(['feat_' chans{ci}]) = out.top_level_feat_maps{ci};
  end
end
