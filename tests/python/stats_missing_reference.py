import pandas as pd, numpy as np, json, warnings, sys
import pingouin as pg, statsmodels.formula.api as smf
pg.options['round.column.CI95'] = None
src = pd.read_csv('tests/data/stats/traveling_5sites_2sessions.csv', dtype=str)
# holes: (subject, site, roi) cells removed entirely, single sessions blanked or removed
drop_cells = [('ts-03','UCL-Prisma','wm_T1'), ('ts-06','CAM-Skyra','wm_T1'), ('ts-02','MAN-Vida','cc_body_FA')]
mask = np.zeros(len(src), bool)
for s,site,roi in drop_cells:
    mask |= (src.subject==s)&(src.site==site)&(src.roi==roi)
implicit = src[~mask].copy()
# remove one session (implicit) and blank another (explicit)
rm = (implicit.subject=='ts-05')&(implicit.site=='KCL-Premier')&(implicit.roi=='wm_MD')&(implicit.session=='2')
implicit = implicit[~rm]
explicit = src.copy()
explicit.loc[mask,'value'] = ''
explicit.loc[(explicit.subject=='ts-05')&(explicit.site=='KCL-Premier')&(explicit.roi=='wm_MD')&(explicit.session=='2'),'value']=''
implicit.to_csv('missing_implicit.csv', index=False)
explicit.to_csv('missing_explicit.csv', index=False)
df = implicit.copy(); df['value']=df.value.astype(float)
out = {}
for roi, d in df.groupby('roi', sort=False):
    cells = d.groupby(['subject','site'], as_index=False).value.mean()
    icc = pg.intraclass_corr(cells, targets='subject', raters='site', ratings='value', nan_policy='omit')
    e = {'icc': {r.Type: [r.ICC, r.F, r.pval, list(map(float, r.CI95))] for r in icc.itertuples()}}
    cells['g']=1
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = smf.mixedlm('value ~ 1', cells, groups='g', vc_formula={'subject':'0+C(subject)','site':'0+C(site)'}, re_formula='0').fit(reml=True)
    names = list(m.model.exog_vc.names)
    vc = dict(zip(names, m.vcomp))
    vt, vr, ve = vc['subject'], vc['site'], m.scale
    e['reml'] = dict(var_target=vt, var_rater=vr, var_error=ve, icc_a1=vt/(vt+vr+ve), icc_c1=vt/(vt+ve), converged=bool(m.converged))
    out[roi]=e
json.dump(out, open('missing_expected.json','w'), indent=1)
print(json.dumps(out, indent=1)[:3000])
